/**
 * The OpenAPI document passes Spectral's standard OpenAPI ruleset (`spectral:oas`, its recommended
 * rules, as `extends: spectral:oas` in a .spectral.yaml) with nothing to report: no error, no warning,
 * no hint. Spectral runs in-process and offline (the document has no remote $ref).
 */
import { Document, Spectral, type ISpectralDiagnostic } from '@stoplight/spectral-core';
import { Json } from '@stoplight/spectral-parsers';
import { oas } from '@stoplight/spectral-rulesets';
import { readFileSync } from 'node:fs';
import { OPENAPI_FILE } from '../../scripts/generate-openapi';

const SEVERITY = ['error', 'warning', 'info', 'hint'];
const describeResult = (r: ISpectralDiagnostic) =>
  `${SEVERITY[r.severity]} ${String(r.code)} at ${r.path.join('.') || '(root)'}: ${r.message}`;

async function lint(text: string): Promise<string[]> {
  const spectral = new Spectral();
  spectral.setRuleset({ extends: [oas] } as Parameters<Spectral['setRuleset']>[0]);
  return (await spectral.run(new Document(text, Json, OPENAPI_FILE))).map(describeResult);
}

it("passes Spectral's spectral:oas ruleset with nothing to report (tags, operation descriptions, contact)", async () => {
  expect(await lint(readFileSync(OPENAPI_FILE, 'utf8'))).toEqual([]);
});

it('is checked for real: an operation without tags or description and an info without contact are reported', async () => {
  const document = JSON.parse(readFileSync(OPENAPI_FILE, 'utf8'));
  delete document.info.contact;
  delete document.paths['/health'].get.tags;
  delete document.paths['/health'].get.description;
  expect((await lint(JSON.stringify(document))).sort()).toEqual(
    [
      'warning info-contact at info: Info object must have "contact" object.',
      'warning operation-description at paths./health.get: Operation "description" must be present and non-empty string.',
      'warning operation-tags at paths./health.get: Operation must have non-empty "tags" array.',
    ].sort(),
  );
});
