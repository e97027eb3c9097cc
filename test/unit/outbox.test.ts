/** The local outbox read back: quoted-printable bodies decoded, so links are whole (a raw copy breaks them). */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderMessage } from '../../local/aws-standins/rfc822';
import { readOutboxDir } from '../../local/outbox';

it('decodes the links, subject and recipient of the stand-in mails, newest first', () => {
  const dir = mkdtempSync(join(tmpdir(), 'poolgate-outbox-'));
  try {
    const link = `http://127.0.0.1:3000/approvals/41dc5414-aaaa-4aaa-8aaa-000000000001.0?approver=bob%40example.com&sig=${'x'.repeat(60)}`;
    const mail = (subject: string, date: Date) =>
      renderMessage({
        from: 'poolgate@example.com',
        to: ['bob@example.com'],
        subject,
        text: `Review and decide:\n${link}`,
        html: `<p><a href="${link.replace(/&/g, '&amp;')}">Review</a></p>`,
        date,
        messageId: `${date.getTime()}@poolgate.local`,
      });
    const older = mail('Approval needed: node pool np-a', new Date('2026-12-06T14:03:05.123Z'));
    const newer = mail('Approval needed: node pool np-ü', new Date('2026-12-06T14:04:00.000Z'));
    // The file really is quoted-printable: a copied link would carry `=3D` and soft line breaks.
    expect(older).toContain('=3D');
    writeFileSync(join(dir, '2026-12-06T14-03-05.123Z-a.eml'), older);
    writeFileSync(join(dir, '2026-12-06T14-04-00.000Z-b.eml'), newer);
    const mails = readOutboxDir(dir);
    expect(mails.map((m) => [m.sentAt, m.to, m.subject])).toEqual([
      ['2026-12-06T14:04:00.000Z', 'bob@example.com', 'Approval needed: node pool np-ü'],
      ['2026-12-06T14:03:05.123Z', 'bob@example.com', 'Approval needed: node pool np-a'],
    ]);
    expect(mails[1].links).toEqual([link]);
    expect(mails[1].text).toBe(`Review and decide:\n${link}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
