import './devices.css';
import { useEffect, useState } from 'react';
import { api, type Application, type ApplicationDeviceRecords, type StampRecord } from '../../api';
import { useQuery } from '../../hooks';
import { DevicesTextProvider, useDevicesText } from './i18n';
import { useSession } from '../../session';
import { Link } from '../../router';
import { useI18n } from '../../i18n';
import { Icon } from '../../ui/Icons';
import { LoadState } from '../../ui/PageHeader';
import { findingKindName, SeverityBadge } from './DeviceBadges';

/**
 * The approver's (and CC's) review of a physical seal's application (issue 16 §6): each stamp with
 * who made it, where (plotted in a box of its own: no map tiles are fetched), when, how many of the
 * uses allowed were made, and the photos of the stamped paper next to the documents applied for.
 */
export function DeviceReview({ application }: { application: Application }) {
  return (
    <DevicesTextProvider>
      <Review application={application} withPhoneLink />
    </DevicesTextProvider>
  );
}

/** The review inside a DevicesTextProvider (the phone view shows it under its own); the applicant gets a way to the phone view. */
export function Review({ application, withPhoneLink = false }: { application: Application; withPhoneLink?: boolean }) {
  const d = useDevicesText();
  const { me } = useSession();
  const records = useQuery(['DeviceReview.records', application.id], (signal) =>
    api.applicationDeviceRecords(application.id, signal),
  );
  const data = records.data;
  const relays =
    withPhoneLink &&
    application.status === 'approved' &&
    application.authorizations.some((a) => a.kind === 'ticket' && a.holderId === me.user.id && !a.revokedAt);
  return (
    <section className="card device-review" data-testid="device-review">
      {relays && (
        <Link
          to={`/applications/${application.id}/relay`}
          className="button button-primary phone-view-link"
          data-testid="open-phone-view"
        >
          <Icon name="seal" size={16} />
          {d('phone.open')}
        </Link>
      )}
      <h2>{d('deviceReview.title')}</h2>
      <LoadState loading={records.loading && !data} error={records.error} empty={false} onRetry={records.reload} />
      {data && <ReviewRecords application={application} records={data} />}
    </section>
  );
}

function ReviewRecords({ application, records }: { application: Application; records: ApplicationDeviceRecords }) {
  const d = useDevicesText();
  const made = records.stamps.length;
  const photos = records.stamps.reduce((n, s) => n + s.photos.filter((p) => p.uploaded).length, 0);
  const who = (holderId: string) => (holderId === application.applicantId ? application.applicantName : holderId);
  return (
    <>
      <p
        className="device-review-count"
        data-testid="device-review-count"
        data-made={made}
        data-allowed={records.usesApproved}
      >
        <strong>{d('deviceReview.count', { made, allowed: records.usesApproved })}</strong>
        <span className="muted small"> · {d('deviceReview.photoCount', { n: photos })}</span>
      </p>
      {records.findings.length > 0 && (
        <ul className="item-list" data-testid="device-review-findings">
          {records.findings.map((f) => (
            <li key={f.id} data-testid="device-review-finding" data-kind={f.kind}>
              <div className="role-line">
                <SeverityBadge severity={f.severity} />
                <strong>{findingKindName(d, f.kind)}</strong>
              </div>
              <span className="muted small">{f.detail}</span>
            </li>
          ))}
        </ul>
      )}
      {made === 0 ? (
        <p className="empty" data-testid="device-review-empty">
          {d('deviceReview.none')}
        </p>
      ) : (
        <div className="device-review-grid">
          <div className="device-review-side">
            <PositionPlot stamps={records.stamps} />
            {application.documents.length > 0 && (
              <div className="device-review-documents" data-testid="device-review-documents">
                <h3>{d('deviceReview.documents')}</h3>
                <ul className="plain-list">
                  {application.documents.map((d) => (
                    <li key={d.sha256} className="small">
                      <Icon name="file" size={15} className="seal-line-icon" /> {d.name}
                    </li>
                  ))}
                </ul>
              </div>
            )}
          </div>
          <ol className="stamp-records" data-testid="stamp-records">
            {records.stamps.map((s, i) => (
              <StampEntry key={`${s.ticketId}/${s.use ?? i}`} stamp={s} who={who(s.holderId)} />
            ))}
          </ol>
        </div>
      )}
    </>
  );
}

function StampEntry({ stamp, who }: { stamp: StampRecord; who: string }) {
  const d = useDevicesText();
  const i18n = useI18n();
  return (
    <li className="stamp-record" data-testid="stamp-record" data-use={stamp.use ?? ''}>
      <div className="stamp-record-head">
        <span className="stamp-use">{stamp.use ?? '?'}</span>
        <span>
          <strong data-testid="stamp-record-who">{who}</strong>
          <span className="muted small"> · {i18n.formatDate(stamp.deviceTime)}</span>
          <span className="muted small"> · {stamp.serial}</span>
        </span>
      </div>
      <p className="small" data-testid="stamp-record-where">
        {stamp.location ? (
          <>
            {d('deviceReview.where', {
              lat: stamp.location.lat.toFixed(6),
              lon: stamp.location.lon.toFixed(6),
              acc: stamp.location.accuracy,
            })}{' '}
            <a
              href={`https://www.openstreetmap.org/?mlat=${stamp.location.lat}&mlon=${stamp.location.lon}#map=17/${stamp.location.lat}/${stamp.location.lon}`}
              target="_blank"
              rel="noreferrer noopener"
              className="small"
            >
              {d('deviceReview.openMap')}
            </a>
          </>
        ) : (
          <span className="muted">{d('deviceReview.noPosition')}</span>
        )}
      </p>
      <div className="stamp-photos">
        {stamp.photos.length === 0 && <span className="muted small">{d('deviceReview.noPhoto')}</span>}
        {stamp.photos.map((p) =>
          p.uploaded && stamp.deviceId ? (
            <StampPhoto key={p.sha256} deviceId={stamp.deviceId} sha256={p.sha256} use={stamp.use} />
          ) : (
            <span key={p.sha256} className="badge badge-warn" data-testid="stamp-photo-missing">
              {d('deviceReview.photoPending')}
            </span>
          ),
        )}
      </div>
    </li>
  );
}

/** A stored photo, fetched with the session (the photo route needs the bearer token) and shown from a blob URL. */
export function StampPhoto({ deviceId, sha256, use }: { deviceId: string; sha256: string; use: number | null }) {
  const d = useDevicesText();
  const [url, setUrl] = useState<string | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    const controller = new AbortController();
    let made: string | null = null;
    api.devicePhoto(deviceId, sha256, controller.signal).then(
      (photo) => {
        made = URL.createObjectURL(photo);
        setUrl(made);
      },
      () => !controller.signal.aborted && setFailed(true),
    );
    return () => {
      controller.abort();
      if (made) URL.revokeObjectURL(made);
    };
  }, [deviceId, sha256]);
  if (failed) return <span className="error small">{d('deviceReview.photoFailed')}</span>;
  return url ? (
    <a href={url} target="_blank" rel="noreferrer" className="stamp-photo-link">
      <img
        src={url}
        alt={d('deviceReview.photoAlt', { n: use ?? '?' })}
        className="stamp-photo"
        data-testid="stamp-photo"
        data-sha256={sha256}
      />
    </a>
  ) : (
    <span className="stamp-photo stamp-photo-loading" aria-busy="true" />
  );
}

/**
 * Where the stamps were made, plotted in a box: the points scaled to fit (equal metres on both
 * axes, so a spread shows its true shape), each marked with its use number, the span in metres
 * beneath. No map tiles: the review works on a closed network and in tests without a request out.
 */
export function PositionPlot({ stamps }: { stamps: Array<Pick<StampRecord, 'use' | 'location'>> }) {
  const d = useDevicesText();
  const points = stamps.filter((s) => s.location).map((s) => ({ use: s.use, ...s.location! }));
  if (points.length === 0) return null;
  const lat0 = points.reduce((a, p) => a + p.lat, 0) / points.length;
  const metresPerDegLat = 111_320;
  const metresPerDegLon = 111_320 * Math.cos((lat0 * Math.PI) / 180);
  const xy = points.map((p) => ({ ...p, x: p.lon * metresPerDegLon, y: -p.lat * metresPerDegLat }));
  const minX = Math.min(...xy.map((p) => p.x));
  const maxX = Math.max(...xy.map((p) => p.x));
  const minY = Math.min(...xy.map((p) => p.y));
  const maxY = Math.max(...xy.map((p) => p.y));
  // At least 50 m across, so one point (or a few metres of jitter) sits in the middle, not in a corner.
  const span = Math.max(maxX - minX, maxY - minY, 50);
  const cx = (minX + maxX) / 2;
  const cy = (minY + maxY) / 2;
  const size = 240;
  const pad = 24;
  const scale = (size - 2 * pad) / span;
  const at = (p: { x: number; y: number }) => ({
    px: size / 2 + (p.x - cx) * scale,
    py: size / 2 + (p.y - cy) * scale,
  });
  return (
    <figure className="position-plot" data-testid="position-plot">
      <svg viewBox={`0 0 ${size} ${size}`} role="img" aria-label={d('deviceReview.plotLabel', { n: points.length })}>
        <rect x="0.5" y="0.5" width={size - 1} height={size - 1} className="plot-frame" />
        {[1, 2, 3].map((i) => (
          <g key={i} className="plot-grid">
            <line x1={(size * i) / 4} y1="0" x2={(size * i) / 4} y2={size} />
            <line x1="0" y1={(size * i) / 4} x2={size} y2={(size * i) / 4} />
          </g>
        ))}
        {xy.map((p, i) => {
          const { px, py } = at(p);
          return (
            <g key={i} data-testid="plot-point" data-use={p.use ?? ''} data-lat={p.lat} data-lon={p.lon}>
              <circle cx={px} cy={py} r="9" className="plot-point" />
              <text x={px} y={py + 4} textAnchor="middle" className="plot-label">
                {p.use ?? '?'}
              </text>
            </g>
          );
        })}
      </svg>
      <figcaption className="muted small">
        {d('deviceReview.plotCaption', {
          lat: lat0.toFixed(5),
          lon: (points.reduce((a, p) => a + p.lon, 0) / points.length).toFixed(5),
          metres: Math.round(span),
        })}
      </figcaption>
    </figure>
  );
}
