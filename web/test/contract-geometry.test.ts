// Where a field placed on screen lands in the PDF (web/src/features/contracts/geometry.ts): the
// API's rect is in points from the bottom-left of the unrotated page, the screen shows the page
// turned by its /Rotate with y going down. Expected rects are worked out by hand here, not by
// the code under test.
import { describe, expect, it } from 'vitest';
import type { PageBox } from '../src/api/index';
import { toContractBody, newParticipant, type FieldDraft } from '../src/features/contracts/draft';
import { dropRect, keepOnPage, rectToScreen, screenToRect, shownSize } from '../src/features/contracts/geometry';

const A4: PageBox = { box: [0, 0, 595, 842], rotate: 0 };
/** A cropped page whose visible box does not start at the origin. */
const CROPPED: PageBox = { box: [20, 30, 500, 700], rotate: 0 };

describe('field geometry', () => {
  it('puts a spot at the top-left of an upright page near the top of the PDF (y counts up from the bottom)', () => {
    const rect = screenToRect(A4, { left: 0, top: 0, width: 0.2, height: 0.1 });
    expect(rect).toEqual([0, 757.8, 119, 84.2]);
  });

  it('offsets by the visible box of a cropped page', () => {
    const rect = screenToRect(CROPPED, { left: 0.5, top: 0.5, width: 0.1, height: 0.1 });
    // x = 20 + 250, y = 30 + 700 - 350 - 70
    expect(rect).toEqual([270, 310, 50, 70]);
  });

  it('reads a page turned a quarter clockwise the way a person sees it', () => {
    const turned: PageBox = { box: [0, 0, 600, 800], rotate: 90 };
    expect(shownSize(turned)).toEqual({ width: 800, height: 600 });
    // The shown top-left corner is the unrotated page's bottom-left corner.
    expect(screenToRect(turned, { left: 0, top: 0, width: 0.125, height: 0.25 })).toEqual([0, 0, 150, 100]);
    // The shown top-right corner is its top-left corner.
    expect(screenToRect(turned, { left: 0.875, top: 0, width: 0.125, height: 0.25 })).toEqual([0, 700, 150, 100]);
  });

  it('reads pages turned half and three quarters', () => {
    const half: PageBox = { box: [0, 0, 600, 800], rotate: 180 };
    // Shown top-left is the unrotated bottom-right.
    expect(screenToRect(half, { left: 0, top: 0, width: 0.1, height: 0.1 })).toEqual([540, 0, 60, 80]);
    const three: PageBox = { box: [0, 0, 600, 800], rotate: 270 };
    // Shown top-left is the unrotated top-right.
    expect(screenToRect(three, { left: 0, top: 0, width: 0.1, height: 0.1 })).toEqual([540, 720, 60, 80]);
  });

  it('round-trips a rect through the screen on every rotation', () => {
    for (const rotate of [0, 90, 180, 270]) {
      const page: PageBox = { box: [10, 20, 600, 800], rotate };
      const rect: [number, number, number, number] = [110.5, 220.25, 119.06, 60];
      expect(screenToRect(page, rectToScreen(page, rect)), `rotate ${rotate}`).toEqual(rect);
    }
  });

  it('never lets a rect leave the page, even after rounding', () => {
    const odd: PageBox = { box: [0.003, 0.007, 612.337, 791.991], rotate: 0 };
    const [x, y, w, h] = screenToRect(odd, { left: 0.9, top: 0.95, width: 0.2, height: 0.2 });
    expect(x).toBeGreaterThanOrEqual(0.003);
    expect(y).toBeGreaterThanOrEqual(0.007);
    expect(x + w).toBeLessThanOrEqual(0.003 + 612.337);
    expect(y + h).toBeLessThanOrEqual(0.007 + 791.991);
    expect(keepOnPage({ left: -0.2, top: 1.4, width: 0.3, height: 0.3 })).toEqual({
      left: 0,
      top: 0.7,
      width: 0.3,
      height: 0.3,
    });
  });

  it('drops a company seal 42 mm across, centred where it was dropped', () => {
    const [x, y, w, h] = dropRect(A4, 'company_seal', { x: 0.5, y: 0.5 });
    expect(w).toBeCloseTo(119.06, 1);
    expect(h).toBeCloseTo(119.06, 1);
    expect(x + w / 2).toBeCloseTo(297.5, 1);
    expect(y + h / 2).toBeCloseTo(421, 1);
  });
});

describe('the new contract as a request', () => {
  it('points fields at participants by index and leaves out those no signer of their kind can fill', () => {
    const company = newParticipant({ kind: 'company', companyId: 'c1', sealId: 's1', person: { id: 'u1', name: 'A' } });
    const cc = newParticipant({ kind: 'outside_person', role: 'cc', name: '抄送人' });
    const outsider = newParticipant({ kind: 'outside_person', step: 2, name: '王五', phone: ' 13800138000 ' });
    const fields: FieldDraft[] = [
      { key: 'a', participantKey: outsider.key, type: 'signature', page: 1, rect: [1, 2, 3, 4] },
      { key: 'b', participantKey: company.key, type: 'company_seal', keyword: '甲方（盖章）' },
      // A seal for a person, and a field for someone who only gets a copy: neither is sent.
      { key: 'c', participantKey: outsider.key, type: 'company_seal', page: 1, rect: [1, 2, 3, 4] },
      { key: 'd', participantKey: cc.key, type: 'signature', page: 1, rect: [1, 2, 3, 4] },
    ];
    const body = toContractBody(
      {
        title: ' 采购合同 ',
        category: 'procurement',
        number: '',
        effectiveOn: '2026-01-01',
        expiresOn: '',
        deadline: '',
        remindEveryDays: '3',
        documentSha256: 'ab'.repeat(32),
      },
      [company, cc, outsider],
      fields,
    );
    expect(body.title).toBe('采购合同');
    expect(body.number).toBeUndefined();
    expect(body.remindEveryDays).toBe(3);
    expect(body.participants).toEqual([
      { role: 'signer', step: 1, kind: 'company', companyId: 'c1', sealId: 's1', userId: 'u1' },
      { role: 'cc', step: 1, kind: 'outside_person', name: '抄送人' },
      { role: 'signer', step: 2, kind: 'outside_person', name: '王五', phone: '13800138000' },
    ]);
    expect(body.fields).toEqual([
      { participant: 2, type: 'signature', page: 1, rect: [1, 2, 3, 4] },
      { participant: 0, type: 'company_seal', keyword: '甲方（盖章）' },
    ]);
  });
});
