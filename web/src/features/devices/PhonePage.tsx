import './devices.css';
import { useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useRef, useState } from 'react';
import { api, ApiError, type Application, type Authorization } from '../../api';
import { useQuery } from '../../hooks';
import { DevicesTextProvider, useDevicesText } from './i18n';
import { useI18n } from '../../i18n';
import { Link } from '../../router';
import { useSession } from '../../session';
import { Icon } from '../../ui/Icons';
import { Loading, PageHeader } from '../../ui/PageHeader';
import { ProblemMessage } from '../../ui/ProblemMessage';
import { connectSeal, hasWebBluetooth, type SealLink } from './bluetooth';
import { Review } from './DeviceReview';
import {
  discardPhoto,
  dropDirective,
  heldDirective,
  heldTicket,
  heldTicketsOf,
  keepTicket,
  onQueueChange,
  queuedEvents,
  queuedPhotos,
  queueEvents,
  queuePhoto,
  syncQueue,
  type HeldDirective,
  type HeldTicket,
  type QueuedEvent,
  type QueuedPhoto,
  type SyncReport,
} from './offline-queue';
import { registerServiceWorker, useOnline } from './pwa';
import { parseDeviceLog, readEvent, readTicket, sha256Hex, sniffImage } from './wire';

/** The server's bound on a photo (PHOTO_MAX_BYTES): refused here already, before it waits in the queue. */
const PHOTO_MAX_BYTES = 10 * 1024 * 1024;

interface QueueState {
  events: QueuedEvent[];
  photos: QueuedPhoto[];
}

/** The phone's queue as it stands, read again whenever it changes (in this tab or another). */
function useQueue(userId: string): QueueState & { reload(): void } {
  const [state, setState] = useState<QueueState>({ events: [], photos: [] });
  const reload = useCallback(() => {
    void Promise.all([queuedEvents(), queuedPhotos()]).then(([events, photos]) =>
      setState({
        events: events.filter((e) => e.userId === userId),
        photos: photos.filter((p) => p.userId === userId),
      }),
    );
  }, [userId]);
  useEffect(() => {
    reload();
    return onQueueChange(reload);
  }, [reload]);
  return { ...state, reload };
}

/**
 * The employee's phone view of an approved physical-seal application (issue 16 §2, §6, §9): the
 * ticket fetched while online and kept on the phone, relayed to the seal (over Web Bluetooth where
 * the browser has it, else as its text), the uses left, a photo per stamp taken with the camera,
 * and the device's log, the photos and the directive queued in IndexedDB while offline and synced
 * when the connection returns.
 */
export function PhonePage({ applicationId }: { applicationId: string }) {
  return (
    <DevicesTextProvider>
      <Phone applicationId={applicationId} />
    </DevicesTextProvider>
  );
}

function Phone({ applicationId }: { applicationId: string }) {
  const d = useDevicesText();
  const { t } = useI18n();
  const { me } = useSession();
  const online = useOnline();
  const queryClient = useQueryClient();
  const queue = useQueue(me.user.id);
  const [report, setReport] = useState<SyncReport | null>(null);
  const [syncing, setSyncing] = useState(false);
  const remote = useQuery(['PhonePage.application', applicationId], (signal) => api.application(applicationId, signal));
  /** undefined: not looked for yet; null: the phone holds no ticket of this application. */
  const [offlineCopy, setOfflineCopy] = useState<Application | null | undefined>(undefined);

  useEffect(registerServiceWorker, []);

  // With no connection the application is read from the tickets the phone holds for it.
  useEffect(() => {
    if (remote.data || !remote.error) return;
    void heldTicketsOf(applicationId, me.user.id).then((held) => setOfflineCopy(held[0]?.application ?? null));
  }, [remote.data, remote.error, applicationId, me.user.id]);

  const sync = useCallback(async () => {
    if (!navigator.onLine) return;
    setSyncing(true);
    try {
      const done = await syncQueue(me.user.id);
      // An empty queue synced says nothing worth a line.
      const sent = done.eventsStored + done.duplicates + done.photosUploaded + done.problems.length;
      if (!done.reached || sent > 0) setReport(done);
      if (done.reached) await queryClient.invalidateQueries();
    } finally {
      setSyncing(false);
    }
  }, [me.user.id, queryClient]);

  // Whatever was queued while offline leaves as soon as the connection returns (and on opening).
  useEffect(() => {
    if (online) void sync();
  }, [online, sync]);

  const application = remote.data ?? offlineCopy;
  if (!application) {
    // Offline, the problem shows only once the phone has found no ticket of its own for the application.
    const unreachable = remote.error?.status === 0;
    return remote.error && (!unreachable || offlineCopy === null) ? (
      <ProblemMessage error={remote.error} />
    ) : (
      <Loading />
    );
  }
  const tickets = application.authorizations.filter((a) => a.kind === 'ticket' && a.holderId === me.user.id);

  return (
    <div className="phone-view" data-testid="phone-view">
      <Link to={`/applications/${application.id}`} className="back-link" data-testid="back-link">
        <Icon name="chevron" size={14} className="flip" />
        {d('phone.backToApplication')}
      </Link>
      <PageHeader title={d('phone.title')} subtitle={application.reason} />

      <section className="card phone-queue" data-testid="phone-queue">
        <div className="role-line">
          <span
            className={`badge ${online ? 'badge-ok' : 'badge-warn'}`}
            data-testid="phone-online"
            data-online={online ? 'true' : 'false'}
          >
            {online ? d('phone.online') : d('phone.offline')}
          </span>
          <span className="small" data-testid="queue-events" data-count={queue.events.length}>
            {d('phone.queuedEvents', { n: queue.events.length })}
          </span>
          <span className="small" data-testid="queue-photos" data-count={queue.photos.length}>
            {d('phone.queuedPhotos', { n: queue.photos.length })}
          </span>
          <button
            type="button"
            className="button button-small"
            onClick={() => void sync()}
            disabled={!online || syncing}
            data-testid="sync-now"
          >
            <Icon name="upload" size={15} />
            {syncing ? d('phone.syncing') : d('phone.syncNow')}
          </button>
        </div>
        {!online && <p className="muted small">{d('phone.offlineHint')}</p>}
        {report && (
          <p className="small" data-testid="sync-report" data-reached={report.reached ? 'true' : 'false'}>
            {report.reached
              ? d('phone.syncReport', {
                  events: report.eventsStored,
                  duplicates: report.duplicates,
                  photos: report.photosUploaded,
                  findings: report.findings,
                })
              : d('phone.syncUnreached')}
            {report.problems.length > 0 && (
              <span className="error" data-testid="sync-problems">
                {' '}
                {report.problems.join(' · ')}
              </span>
            )}
          </p>
        )}
        {queue.photos.some((p) => p.error) && (
          <ul className="item-list" data-testid="queue-photo-problems">
            {queue.photos
              .filter((p) => p.error)
              .map((p) => (
                <li key={p.sha256}>
                  <span className="small">{d('phone.photoRefused', { use: p.use, code: p.error ?? '' })}</span>
                  <button type="button" className="button button-small" onClick={() => void discardPhoto(p.sha256)}>
                    {t('common.remove')}
                  </button>
                </li>
              ))}
          </ul>
        )}
      </section>

      {tickets.length === 0 && (
        <p className="empty" data-testid="phone-no-ticket">
          {application.status === 'approved' ? d('phone.noTicketAuthorization') : d('phone.notApproved')}
        </p>
      )}
      {tickets.map((authorization) => (
        <TicketRelay
          key={authorization.id}
          application={application}
          authorization={authorization}
          online={online}
          queue={queue}
          onQueued={() => void (navigator.onLine ? sync() : undefined)}
        />
      ))}

      {remote.data && <Review application={remote.data} />}
    </div>
  );
}

interface Stamp {
  use: number;
  at: number | null;
  logged: string[];
  onPhone: string[];
  uploaded: string[];
}

function TicketRelay({
  application,
  authorization,
  online,
  queue,
  onQueued,
}: {
  application: Application;
  authorization: Authorization;
  online: boolean;
  queue: QueueState;
  onQueued: () => void;
}) {
  const d = useDevicesText();
  const i18n = useI18n();
  const { t } = i18n;
  const { me } = useSession();
  const [held, setHeld] = useState<HeldTicket | null | undefined>(undefined);
  const [fetchError, setFetchError] = useState<ApiError | null>(null);
  const [directive, setDirective] = useState<HeldDirective | null>(null);
  const [link, setLink] = useState<SealLink | null>(null);
  const [linkProblem, setLinkProblem] = useState<string | null>(null);
  const [logText, setLogText] = useState('');
  const [note, setNote] = useState<{ text: string; bad: boolean } | null>(null);
  const fetching = useRef(false);
  const records = useQuery(
    ['DeviceReview.records', application.id],
    (signal) => api.applicationDeviceRecords(application.id, signal),
    { enabled: online },
  );

  useEffect(() => {
    void heldTicket(authorization.id).then((h) => setHeld(h ?? null));
  }, [authorization.id]);

  const fetchTicket = useCallback(async () => {
    if (fetching.current) return;
    fetching.current = true;
    setFetchError(null);
    try {
      const ticket = await api.deviceTicket({ authorizationId: authorization.id, photoMode: 'auto' });
      const kept: HeldTicket = {
        authorizationId: authorization.id,
        applicationId: application.id,
        userId: me.user.id,
        ticket,
        application,
        fetchedAt: new Date().toISOString(),
      };
      await keepTicket(kept);
      setHeld(kept);
    } catch (error) {
      setFetchError(error instanceof ApiError ? error : null);
    } finally {
      fetching.current = false;
    }
  }, [authorization.id, application, me.user.id]);

  // The ticket is fetched while there is a connection, so that it is on the phone when there is none.
  useEffect(() => {
    if (held === null && online && !authorization.revokedAt) void fetchTicket();
  }, [held, online, authorization.revokedAt, fetchTicket]);

  // While the seal is connected, the phone's position goes into its events (§8 `loc`), as integers.
  useEffect(() => {
    if (!link || !navigator.geolocation) return;
    const watch = navigator.geolocation.watchPosition(
      (p) =>
        void link
          .sendLocation({
            lat: Math.round(p.coords.latitude * 1e6),
            lon: Math.round(p.coords.longitude * 1e6),
            acc: Math.min(100_000, Math.round(p.coords.accuracy)),
          })
          .catch(() => undefined),
      () => undefined,
      { enableHighAccuracy: true, maximumAge: 30_000 },
    );
    return () => navigator.geolocation.clearWatch(watch);
  }, [link]);

  const serial = held?.ticket.serial;
  useEffect(() => {
    if (!serial) return;
    const read = () => void heldDirective(serial).then((d) => setDirective(d ?? null));
    read();
    return onQueueChange(read);
  }, [serial]);

  if (held === undefined) return <Loading />;
  if (!held)
    return (
      <section className="card" data-testid="ticket-relay">
        <h2>{d('phone.ticket')}</h2>
        {authorization.revokedAt ? (
          <p className="error">{t('application.authRevoked')}</p>
        ) : online ? (
          <>
            <ProblemMessage error={fetchError} />
            {fetchError ? (
              <button type="button" className="button" onClick={() => void fetchTicket()} data-testid="ticket-fetch">
                {t('common.retry')}
              </button>
            ) : (
              <Loading />
            )}
          </>
        ) : (
          <p className="muted">{d('phone.ticketNeedsConnection')}</p>
        )}
      </section>
    );

  const facts = readTicket(held.ticket.ticket);
  const deviceSerial = held.ticket.serial;
  // What the phone knows of this ticket's stamps: the device's log it holds, and what the server stored.
  const local = queue.events
    .filter((e) => e.serial === deviceSerial)
    .map((e) => readEvent(e.message))
    .filter((e) => e.tid === facts.tid);
  const stamps = new Map<number, Stamp>();
  const stampOf = (use: number) => {
    let s = stamps.get(use);
    if (!s) stamps.set(use, (s = { use, at: null, logged: [], onPhone: [], uploaded: [] }));
    return s;
  };
  for (const s of records.data?.stamps ?? []) {
    if (s.ticketId !== facts.tid || s.use === null) continue;
    const entry = stampOf(s.use);
    entry.at = Date.parse(s.deviceTime);
    for (const p of s.photos) {
      if (!entry.logged.includes(p.sha256)) entry.logged.push(p.sha256);
      if (p.uploaded) entry.uploaded.push(p.sha256);
    }
  }
  for (const e of local) {
    if (e.use === null) continue;
    if (e.type === 'stamp') stampOf(e.use).at ??= e.t;
    if (e.type === 'photo' && e.photo && !stampOf(e.use).logged.includes(e.photo)) stampOf(e.use).logged.push(e.photo);
  }
  for (const p of queue.photos) if (p.ticketId === facts.tid) stampOf(p.use).onPhone.push(p.sha256);
  const used = Math.max(0, ...[...stamps.values()].filter((s) => s.at !== null).map((s) => s.use));
  const usesLeft = Math.max(0, facts.uses - used);
  const ordered = [...stamps.values()].sort((a, b) => a.use - b.use);
  const expired = Date.now() / 1000 >= facts.exp;

  const importLog = async () => {
    setNote(null);
    try {
      const messages = parseDeviceLog(logText);
      const added = await queueEvents(me.user.id, deviceSerial, messages);
      setLogText('');
      setNote({ text: d('phone.logQueued', { n: added, held: messages.length - added }), bad: false });
      onQueued();
    } catch (error) {
      setNote({
        text: d('phone.logRefused', { reason: error instanceof Error ? error.message : String(error) }),
        bad: true,
      });
    }
  };

  const takePhoto = async (use: number, file: File) => {
    setNote(null);
    const bytes = await file.arrayBuffer();
    const mediaType = sniffImage(new Uint8Array(bytes));
    if (!mediaType) return setNote({ text: d('phone.notAnImage'), bad: true });
    if (bytes.byteLength > PHOTO_MAX_BYTES) return setNote({ text: d('phone.photoTooLarge'), bad: true });
    const sha256 = await sha256Hex(bytes);
    const added = await queuePhoto({
      sha256,
      userId: me.user.id,
      deviceId: held.ticket.deviceId,
      serial: deviceSerial,
      applicationId: application.id,
      ticketId: facts.tid,
      use,
      mediaType,
      bytes,
      takenAt: new Date().toISOString(),
      error: null,
    });
    // The device logs the photo's hash (§6.2) when it is in reach; the bytes wait on the phone.
    if (link) await link.sendPhoto(use, sha256).catch(() => undefined);
    setNote({ text: added ? d('phone.photoQueued', { use }) : d('phone.photoAlreadyHeld'), bad: false });
    onQueued();
  };

  const connect = async () => {
    setLinkProblem(null);
    try {
      const opened = await connectSeal(deviceSerial, (event) => {
        void queueEvents(me.user.id, deviceSerial, [event]).then(onQueued, () => undefined);
      });
      if (directive) {
        await opened.send({ kind: 'directive', message: directive.directive });
        await dropDirective(deviceSerial);
      }
      await opened.send({ kind: 'ticket', message: held.ticket.ticket });
      setLink(opened);
    } catch (error) {
      setLinkProblem(error instanceof Error ? error.message : String(error));
    }
  };

  const payload = JSON.stringify(held.ticket.ticket);
  return (
    <section className="card ticket-relay" data-testid="ticket-relay" data-ticket={facts.tid}>
      <h2>{d('phone.ticket')}</h2>
      <div className="uses-left" data-testid="uses-left" data-left={usesLeft} data-total={facts.uses}>
        <span className="uses-left-number">{usesLeft}</span>
        <span className="small">{d('phone.usesLeft', { total: facts.uses, used })}</span>
      </div>
      <dl className="facts small">
        <div>
          <dt>{d('phone.device')}</dt>
          <dd className="mono" data-testid="ticket-serial">
            {deviceSerial}
          </dd>
        </div>
        <div>
          <dt>{d('phone.validUntil')}</dt>
          <dd className={expired ? 'error' : undefined}>{i18n.formatDate(new Date(facts.exp * 1000))}</dd>
        </div>
        <div>
          <dt>{d('phone.photoMode')}</dt>
          <dd>{d(facts.photo === 'manual' ? 'phone.photoManual' : 'phone.photoAuto', { n: facts.ppu })}</dd>
        </div>
      </dl>

      <div className="relay-actions">
        {hasWebBluetooth() ? (
          <button
            type="button"
            className="button button-primary"
            onClick={() => void (link ? (link.close(), setLink(null)) : connect())}
            data-testid="bluetooth-connect"
          >
            {link ? d('phone.disconnect') : d('phone.connect')}
          </button>
        ) : (
          <p className="muted small" data-testid="bluetooth-missing">
            {d('phone.noBluetooth')}
          </p>
        )}
        {linkProblem && <p className="error small">{linkProblem}</p>}
      </div>
      <details className="ticket-payload">
        <summary>{d('phone.ticketText')}</summary>
        <textarea
          className="input mono"
          readOnly
          rows={4}
          value={payload}
          data-testid="ticket-payload"
          onFocus={(e) => e.currentTarget.select()}
        />
        {navigator.clipboard && (
          <button
            type="button"
            className="button button-small"
            onClick={() => void navigator.clipboard.writeText(payload)}
          >
            {d('phone.copy')}
          </button>
        )}
      </details>
      {directive && (
        <details className="ticket-payload" data-testid="held-directive">
          <summary>{d('phone.directiveWaiting')}</summary>
          <textarea className="input mono" readOnly rows={3} value={JSON.stringify(directive.directive)} />
        </details>
      )}

      <h3>{d('phone.stamps')}</h3>
      {ordered.length === 0 ? (
        <p className="muted small" data-testid="phone-no-stamps">
          {d('phone.noStamps')}
        </p>
      ) : (
        <ol className="phone-stamps">
          {ordered.map((s) => (
            <li key={s.use} className="phone-stamp" data-testid="phone-stamp" data-use={s.use}>
              <div className="role-line">
                <span className="stamp-use">{s.use}</span>
                <span className="small">{s.at !== null ? i18n.formatDate(new Date(s.at)) : '—'}</span>
              </div>
              <p
                className="small"
                data-testid="phone-stamp-photos"
                data-logged={s.logged.length}
                data-on-phone={s.onPhone.length}
                data-uploaded={s.uploaded.length}
              >
                {d('phone.photoState', {
                  logged: s.logged.length,
                  waiting: s.onPhone.length,
                  uploaded: s.uploaded.length,
                })}
              </p>
              <label className="button button-small photo-button">
                <Icon name="plus" size={15} />
                {d('phone.takePhoto')}
                <input
                  type="file"
                  accept="image/*"
                  capture="environment"
                  className="sr-only"
                  data-testid={`photo-input-${s.use}`}
                  onChange={(e) => {
                    const file = e.currentTarget.files?.[0];
                    e.currentTarget.value = '';
                    if (file) void takePhoto(s.use, file);
                  }}
                />
              </label>
            </li>
          ))}
        </ol>
      )}

      <details className="device-log" open={!hasWebBluetooth()}>
        <summary>{d('phone.deviceLog')}</summary>
        <p className="muted small">{d('phone.deviceLogHint')}</p>
        <textarea
          className="input mono"
          rows={4}
          value={logText}
          onChange={(e) => setLogText(e.target.value)}
          data-testid="device-log-input"
        />
        <button
          type="button"
          className="button button-small"
          onClick={() => void importLog()}
          disabled={!logText.trim()}
          data-testid="device-log-queue"
        >
          {d('phone.queueLog')}
        </button>
      </details>
      {note && (
        <p className={note.bad ? 'error small' : 'small'} role="status" data-testid="phone-note">
          {note.text}
        </p>
      )}
    </section>
  );
}
