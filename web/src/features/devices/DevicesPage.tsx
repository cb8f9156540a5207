import './devices.css';
import { useState, type FormEvent } from 'react';
import { api, ApiError, type Device } from '../../api';
import { useMutation, useQuery } from '../../hooks';
import { DevicesTextProvider, useDevicesText } from './i18n';
import { useI18n } from '../../i18n';
import { href, navigate, useLocation } from '../../router';
import { usePermissionSet } from '../../session';
import { Field } from '../../ui/Field';
import { Icon } from '../../ui/Icons';
import { LoadState, PageHeader } from '../../ui/PageHeader';
import { ProblemMessage } from '../../ui/ProblemMessage';
import { useToast } from '../../ui/Toast';
import { eventTypeName, findingKindName, LockBadge, SeverityBadge } from './DeviceBadges';

/**
 * The device registry (issue 16 §1, §7): every smart seal over the companies whose seals I read,
 * with its bound seal, last sync, remote lock and open findings; a seal administrator registers a
 * device's public key against a physical seal and locks or releases a device from afar. The device
 * chosen (`?device=`) shows its synced log and its findings.
 */
export function DevicesPage() {
  return (
    <DevicesTextProvider>
      <Registry />
    </DevicesTextProvider>
  );
}

function Registry() {
  const d = useDevicesText();
  const canManage = usePermissionSet().has('seals.manage');
  const { query } = useLocation();
  const selected = query.get('device') ?? '';
  const [registering, setRegistering] = useState(false);
  const list = useQuery(['DevicesPage.list'], (signal) => api.devices({}, signal));
  const items = list.data?.items ?? [];
  const chosen = items.find((d) => d.id === selected);

  return (
    <>
      <PageHeader
        title={d('device.title')}
        subtitle={d('device.subtitle')}
        actions={
          canManage && (
            <button
              type="button"
              className="button button-primary"
              onClick={() => setRegistering((v) => !v)}
              aria-expanded={registering}
              data-testid="device-register-open"
            >
              <Icon name="plus" size={16} />
              {d('device.register')}
            </button>
          )
        }
      />
      {registering && (
        <RegisterForm
          onDone={(device) => {
            setRegistering(false);
            list.reload();
            navigate(href('/devices', { device: device.id }), { replace: true });
          }}
          onCancel={() => setRegistering(false)}
        />
      )}
      <section className="card">
        <LoadState
          loading={list.loading && !list.data}
          error={list.error}
          empty={items.length === 0}
          onRetry={list.reload}
          emptyText={d('device.none')}
        />
        {items.length > 0 && (
          <ul className="item-list device-list" data-testid="device-list">
            {items.map((d) => (
              <DeviceRow
                key={d.id}
                device={d}
                selected={d.id === selected}
                canManage={canManage}
                onChanged={list.reload}
              />
            ))}
          </ul>
        )}
      </section>
      {chosen && <DeviceDetail key={chosen.id} device={chosen} />}
    </>
  );
}

function DeviceRow({
  device,
  selected,
  canManage,
  onChanged,
}: {
  device: Device;
  selected: boolean;
  canManage: boolean;
  onChanged: () => void;
}) {
  const d = useDevicesText();
  const i18n = useI18n();
  const toast = useToast();
  const lock = useMutation((locked: boolean) => api.lockDevice(device.id, locked));
  const toggle = async () => {
    const updated = await lock.run(!device.remoteLocked);
    if (updated) {
      toast(updated.remoteLocked ? d('device.lockedToast') : d('device.releasedToast'));
      onChanged();
    }
  };
  return (
    <li
      className={`device-row${selected ? ' selected' : ''}`}
      data-testid="device-row"
      data-serial={device.serial}
      data-device={device.id}
    >
      <div className="device-row-main">
        <div className="role-line">
          <button
            type="button"
            className="link-button"
            onClick={() => navigate(href('/devices', { device: selected ? undefined : device.id }), { replace: true })}
            aria-expanded={selected}
            data-testid="device-open"
          >
            <strong className="mono">{device.serial}</strong>
          </button>
          <LockBadge locked={device.remoteLocked} />
          {device.status === 'retired' && <span className="badge badge-muted">{d('device.retired')}</span>}
          {device.openFindings > 0 ? (
            <span className="badge badge-danger" data-testid="device-findings-count" data-count={device.openFindings}>
              {d('device.openFindings', { n: device.openFindings })}
            </span>
          ) : (
            <span className="badge badge-ok" data-testid="device-findings-count" data-count="0">
              {d('device.noFindings')}
            </span>
          )}
        </div>
        <dl className="device-facts small">
          <div>
            <dt>{d('device.seal')}</dt>
            <dd data-testid="device-seal">{device.sealName}</dd>
          </div>
          <div>
            <dt>{d('device.lastSync')}</dt>
            <dd data-testid="device-last-sync">
              {device.lastSyncedAt ? i18n.formatDate(device.lastSyncedAt) : d('device.neverSynced')}
            </dd>
          </div>
          <div>
            <dt>{d('device.acknowledged')}</dt>
            <dd data-testid="device-acknowledged">{device.acknowledgedSeq}</dd>
          </div>
          <div>
            <dt>{d('device.keyId')}</dt>
            <dd className="mono">{device.keyId}</dd>
          </div>
        </dl>
      </div>
      {canManage && device.status === 'active' && (
        <div className="device-row-actions">
          <button
            type="button"
            className={`button button-small${device.remoteLocked ? '' : ' button-danger'}`}
            onClick={() => void toggle()}
            disabled={lock.busy}
            data-testid="device-lock-toggle"
          >
            <Icon name={device.remoteLocked ? 'key' : 'shield'} size={15} />
            {device.remoteLocked ? d('device.release') : d('device.lock')}
          </button>
          <ProblemMessage error={lock.error} />
        </div>
      )}
    </li>
  );
}

function DeviceDetail({ device }: { device: Device }) {
  const d = useDevicesText();
  const i18n = useI18n();
  const events = useQuery(['DevicesPage.events', device.id, device.acknowledgedSeq], (signal) =>
    api.deviceEvents(device.id, { afterSeq: Math.max(0, device.acknowledgedSeq - 100), limit: 100 }, signal),
  );
  const findings = useQuery(['DevicesPage.findings', device.id, device.openFindings], (signal) =>
    api.deviceFindings({ deviceId: device.id, limit: 100 }, signal),
  );
  const eventItems = [...(events.data?.items ?? [])].reverse();
  const findingItems = findings.data?.items ?? [];
  return (
    <div className="device-detail" data-testid="device-detail">
      <section className="card" data-testid="device-findings">
        <h2>{d('device.findings')}</h2>
        <LoadState
          loading={findings.loading && !findings.data}
          error={findings.error}
          empty={findingItems.length === 0}
          emptyText={d('device.noFindingsYet')}
        />
        {findingItems.length > 0 && (
          <ul className="item-list">
            {findingItems.map((f) => (
              <li key={f.id} data-testid="device-finding" data-kind={f.kind}>
                <div className="role-line">
                  <SeverityBadge severity={f.severity} />
                  <strong>{findingKindName(d, f.kind)}</strong>
                  {f.resolvedAt && <span className="badge badge-ok">{d('device.resolved')}</span>}
                </div>
                <span className="muted small">
                  {f.seq !== null && `#${f.seq} · `}
                  {i18n.formatDate(f.createdAt)} · {f.detail}
                </span>
              </li>
            ))}
          </ul>
        )}
      </section>
      <section className="card" data-testid="device-events">
        <h2>{d('device.events')}</h2>
        <LoadState
          loading={events.loading && !events.data}
          error={events.error}
          empty={eventItems.length === 0}
          emptyText={d('device.noEvents')}
        />
        {eventItems.length > 0 && (
          <div className="table-wrap">
            <table className="table device-events">
              <thead>
                <tr>
                  <th>#</th>
                  <th>{d('device.eventType')}</th>
                  <th>{d('device.eventTime')}</th>
                  <th>{d('device.eventDetail')}</th>
                </tr>
              </thead>
              <tbody>
                {eventItems.map((e) => (
                  <tr key={e.seq} data-testid="device-event" data-type={e.type} data-seq={e.seq}>
                    <td className="mono">{e.seq}</td>
                    <td>{eventTypeName(d, e.type)}</td>
                    <td className="nowrap">{i18n.formatDate(e.deviceTime)}</td>
                    <td className="small cell-break">
                      {[
                        e.use !== null ? d('device.eventUse', { n: e.use }) : null,
                        e.why,
                        e.location ? `${e.location.lat.toFixed(5)}, ${e.location.lon.toFixed(5)}` : null,
                        e.photoSha256 ? `${d('device.eventPhoto')} ${e.photoSha256.slice(0, 12)}…` : null,
                      ]
                        .filter(Boolean)
                        .join(' · ')}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </div>
  );
}

/** Degrees as typed (31.230416) to the protocol's micro-degrees (integers, §2). */
const micro = (text: string) => Math.round(Number(text) * 1e6);

function RegisterForm({ onDone, onCancel }: { onDone: (device: Device) => void; onCancel: () => void }) {
  const d = useDevicesText();
  const { t } = useI18n();
  const [serial, setSerial] = useState('');
  const [sealId, setSealId] = useState('');
  const [publicKey, setPublicKey] = useState('');
  const [fence, setFence] = useState({ lat: '', lon: '', r: '' });
  const seals = useQuery(['DevicesPage.physicalSeals'], (signal) =>
    api.seals({ kind: 'physical', status: 'active', limit: 100 }, signal),
  );
  const register = useMutation(() =>
    api.registerDevice({
      serial: serial.trim(),
      sealId,
      publicKey: publicKey.replace(/\s+/g, ''),
      geofence:
        fence.lat && fence.lon && fence.r ? { lat: micro(fence.lat), lon: micro(fence.lon), r: Number(fence.r) } : null,
    }),
  );
  const errors = register.error instanceof ApiError ? register.error.fieldErrors() : {};
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const device = await register.run();
    if (device) onDone(device);
  };
  return (
    <form className="card form" onSubmit={(e) => void submit(e)} data-testid="device-register-form">
      <h2>{d('device.register')}</h2>
      <p className="muted small">{d('device.registerHint')}</p>
      <Field label={d('device.serial')} error={errors.serial}>
        {(props) => (
          <input
            {...props}
            className="input mono"
            value={serial}
            onChange={(e) => setSerial(e.target.value)}
            autoComplete="off"
            required
            data-testid="device-serial"
          />
        )}
      </Field>
      <Field label={d('device.seal')} error={errors.sealId}>
        {(props) => (
          <select
            {...props}
            className="input"
            value={sealId}
            onChange={(e) => setSealId(e.target.value)}
            required
            data-testid="device-seal-select"
          >
            <option value="">{d('device.chooseSeal')}</option>
            {(seals.data?.items ?? []).map((s) => (
              <option key={s.id} value={s.id}>
                {s.name} · {s.code}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label={d('device.publicKey')} hint={d('device.publicKeyHint')} error={errors.publicKey}>
        {(props) => (
          <textarea
            {...props}
            className="input mono"
            rows={3}
            value={publicKey}
            onChange={(e) => setPublicKey(e.target.value)}
            required
            data-testid="device-public-key"
          />
        )}
      </Field>
      <fieldset className="fieldset-inline">
        <legend>
          {d('device.geofence')} <span className="muted">({t('common.optional')})</span>
        </legend>
        <div className="geofence-fields">
          {(['lat', 'lon', 'r'] as const).map((k) => (
            <Field key={k} label={d(`device.geofence.${k}`)} error={errors[`geofence.${k}`]}>
              {(props) => (
                <input
                  {...props}
                  className="input"
                  inputMode="decimal"
                  value={fence[k]}
                  onChange={(e) => setFence((f) => ({ ...f, [k]: e.target.value }))}
                  data-testid={`device-geofence-${k}`}
                />
              )}
            </Field>
          ))}
        </div>
      </fieldset>
      {Object.keys(errors).length === 0 && <ProblemMessage error={register.error} />}
      <div className="form-actions">
        <button type="button" className="button" onClick={onCancel}>
          {t('common.cancel')}
        </button>
        <button
          type="submit"
          className="button button-primary"
          disabled={register.busy}
          data-testid="device-register-submit"
        >
          {register.busy ? t('common.saving') : d('device.registerSubmit')}
        </button>
      </div>
    </form>
  );
}
