/** The explore page embeds the model's strings as data only: nothing from a spec becomes markup. */
import { describe, expect, it } from 'vitest';
import { explorePage } from '../../src/report/explore-page.ts';

const EVIL = '</script><script>alert(1)</script><img src=x onerror=alert(2)>';

describe('the explore page', () => {
  it('escapes the title and embeds every model string in JSON that cannot close its script element', () => {
    const meta = {
      spec: `s${EVIL}`,
      config: `c${EVIL}`,
      title: `t${EVIL}`,
      description: `d${EVIL}`,
      promise: EVIL,
      properties: [{ id: `p${EVIL}`, name: EVIL, kind: 'always' }],
      fieldInfo: { [EVIL]: { kind: 'durable' as const } },
      payloads: [null],
      groups: [{ title: EVIL, fields: [EVIL] }],
    };
    const html = explorePage(meta, [{ id: EVIL, property: EVIL, kind: 'always', verdict: 'violated', labels: [EVIL], texts: [EVIL], actors: [EVIL] }], {
      graph: { strings: [EVIL, 'null', '[]'], fields: [EVIL], labels: [EVIL], states: [{ v: [0], p: '0', d: -1, w: -1, n: [] }] },
    });
    // Exactly the page's own two script elements, and no image.
    expect(html.match(/<script/g)).toHaveLength(2);
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;/script&gt;');
    const json = /<script type="application\/json" id="explore-data">([^]*?)<\/script>/.exec(html)![1];
    expect(json).not.toMatch(/[<>]/);
    expect(JSON.parse(json).meta.spec).toBe(`s${EVIL}`);
    // The page's script writes model strings with textContent only.
    expect(html).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
  });
});
