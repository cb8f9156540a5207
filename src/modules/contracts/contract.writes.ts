// The writes of one step of a contract's flow (a signature, a send, a step opening), gathered
// under the contract's lock and sent at its end as one statement (`WriteBatch`): the contract's
// row once with everything that changed on it, the participants', the signature's record, the
// notices, the public events in their order and the audit events in theirs. A step of the flow
// wrote a dozen statements one after another, each a round trip while the contract stayed locked.
import { WriteBatch } from '../../db/batch.js';
import type { Transaction } from '../../db/schema.js';
import { eventsWrite, type PublicEvent } from '../../outbox/events.js';
import { auditAppendStatement, type AuditActor, type AuditEvent } from '../audit/index.js';
import { findRecipients, notifyInBatch, type NotificationKind, type Recipient } from '../notifications/index.js';
import type { notify } from '../notifications/index.js';
import * as repo from './contract.repository.js';

type NotifyInput = Parameters<typeof notify<NotificationKind>>[1];

export class FlowWrites {
  private readonly writes = new WriteBatch();
  private readonly contracts = new Map<string, repo.ContractPatch>();
  private readonly participants = new Map<string, repo.ParticipantPatch>();
  private readonly events: PublicEvent[] = [];
  private readonly audits: Array<AuditEvent & { at: Date }> = [];
  private readonly notices: NotifyInput[] = [];
  private readonly people = new Map<string, Recipient>();
  /** What this step changed, kept once sent: the answer shows the contract as the step left it. */
  private readonly changed = {
    contracts: new Map<string, repo.ContractPatch>(),
    participants: new Map<string, repo.ParticipantPatch>(),
    values: new Map<string, string>(),
  };
  /** The participants as read under the lock (`applyTo`). */
  private seen: repo.ParticipantRecord[] | undefined;

  constructor(
    private readonly groupId: string,
    private readonly actor: AuditActor,
  ) {}

  /** A change to a contract's row; later changes to the same row join it (one row, one update). */
  patchContract(id: string, patch: repo.ContractPatch): this {
    this.contracts.set(id, { ...this.contracts.get(id), ...patch });
    this.changed.contracts.set(id, { ...this.changed.contracts.get(id), ...patch });
    return this;
  }

  patchParticipant(id: string, patch: repo.ParticipantPatch): this {
    this.participants.set(id, { ...this.participants.get(id), ...patch });
    this.changed.participants.set(id, { ...this.changed.participants.get(id), ...patch });
    return this;
  }

  fillField(trx: Transaction, id: string, value: string, at: Date): this {
    this.writes.add(repo.fieldFillWrite(trx, id, value, at));
    this.changed.values.set(id, value);
    return this;
  }

  /** Participants as they are once these writes are made (read under the lock, before them). */
  applyTo(participants: repo.ParticipantRecord[]): repo.ParticipantRecord[] {
    this.seen = participants;
    return participants.map((p) => patched(p, this.participants.get(p.id)));
  }

  /**
   * The contract as this step left it, once its writes are committed: as read (its participants
   * as read under the lock), with every change of the step. What a re-read right after the commit
   * answers, without the read.
   */
  settle(loaded: {
    contract: repo.ContractRecord;
    participants: repo.ParticipantRecord[];
    fields: repo.FieldRecord[];
  }): { contract: repo.ContractRecord; participants: repo.ParticipantRecord[]; fields: repo.FieldRecord[] } {
    const { contracts, participants, values } = this.changed;
    return {
      contract: { ...loaded.contract, ...contracts.get(loaded.contract.id) },
      participants: (this.seen ?? loaded.participants).map((p) => patched(p, participants.get(p.id))),
      fields: loaded.fields.map((f) => (values.has(f.id) ? { ...f, value: values.get(f.id)! } : f)),
    };
  }

  add(write: Parameters<WriteBatch['add']>[0]): this {
    this.writes.add(write);
    return this;
  }

  event(event: PublicEvent): this {
    this.events.push(event);
    return this;
  }

  audit(at: Date, event: AuditEvent): this {
    this.audits.push({ ...event, at });
    return this;
  }

  /** People of the group already read (with the participants), whom notices then need not read again. */
  knowPeople(people: Recipient[]): this {
    for (const person of people) this.people.set(person.id, person);
    return this;
  }

  notify(input: NotifyInput): this {
    this.notices.push(input);
    return this;
  }

  /**
   * Writes everything gathered, in one statement after one read of the people to tell; the
   * audit events are appended once every other write ran. Nothing gathered: nothing is sent.
   */
  async flush(trx: Transaction): Promise<void> {
    const notices = this.notices.splice(0);
    const events = this.events.splice(0);
    const audits = this.audits.splice(0);
    const contracts = [...this.contracts];
    const participants = [...this.participants];
    this.contracts.clear();
    this.participants.clear();
    if (notices.length > 0) {
      const unknown = notices.flatMap((n) => n.userIds).filter((id) => !this.people.has(id));
      if (unknown.length > 0) this.knowPeople(await findRecipients(trx, this.groupId, unknown));
      const recipients = [...this.people.values()];
      for (const notice of notices) notifyInBatch(trx, this.writes, notice, recipients);
    }
    for (const [id, patch] of contracts) this.writes.add(repo.contractWrite(trx, id, patch));
    for (const [id, patch] of participants) this.writes.add(repo.participantWrite(trx, id, patch));
    if (events.length > 0) this.writes.add(eventsWrite(trx, this.groupId, events));
    await this.writes.run(
      trx,
      audits.length > 0
        ? auditAppendStatement({ groupId: this.groupId, actor: this.actor, events: audits })
        : undefined,
    );
  }
}

function patched(p: repo.ParticipantRecord, patch: repo.ParticipantPatch | undefined): repo.ParticipantRecord {
  if (!patch) return p;
  return {
    ...p,
    status: patch.status,
    ...(patch.actedAt !== undefined ? { actedAt: patch.actedAt } : {}),
    ...(patch.reason !== undefined ? { reason: patch.reason } : {}),
  };
}
