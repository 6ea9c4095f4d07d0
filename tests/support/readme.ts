import net from 'node:net';
import type { AddressInfo } from 'node:net';

/** The fenced bash blocks between `<!-- NAME:start -->` and `<!-- NAME:end -->` markers, in README order. */
export const markedBashBlocks = (markdown: string, name: string): string[] => {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const blocks: string[] = [];
  let from = markdown.indexOf(start);
  while (from !== -1) {
    const to = markdown.indexOf(end, from);
    if (to === -1) throw new Error(`a ${name}:start marker without its end`);
    const fenced = /```bash\n([\s\S]*?)```/.exec(markdown.slice(from + start.length, to));
    if (fenced?.[1] === undefined) throw new Error(`a ${name} section without a \`\`\`bash block`);
    blocks.push(fenced[1]);
    from = markdown.indexOf(start, to);
  }
  return blocks;
};

/** A TCP port free on loopback a moment ago. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
