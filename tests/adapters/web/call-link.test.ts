import { describe, expect, it } from 'vitest';
import {
  forgetLink,
  storedLink,
  storeLink,
  tokenOfFragment,
  tokenOfLink,
} from '../../../adapters/web/src/features/call/link.ts';

describe('the call page’s join link', () => {
  it('is read from #link= or the legacy #token=, trimmed, and only when it looks like a token', () => {
    expect(tokenOfFragment('#link=jl1.abc.def')).toBe('jl1.abc.def');
    expect(tokenOfFragment('#token=eyJ.x-y_z.sig')).toBe('eyJ.x-y_z.sig');
    expect(tokenOfFragment('link=%20jl1.a.b%20')).toBe('jl1.a.b');
    expect(tokenOfFragment('#link=jl1.a&token=other')).toBe('jl1.a');
    for (const bad of ['', '#', '#link=', '#other=jl1.a', '#link=<script>', '#link=a b', `#link=${'a'.repeat(4097)}`]) {
      expect(tokenOfFragment(bad), bad).toBeUndefined();
    }
  });

  it('is taken from a whole join link, and nothing from something that is not a URL', () => {
    expect(tokenOfLink('https://coaching.example.com/call?meeting=m-1#link=jl1.p.s')).toBe('jl1.p.s');
    expect(tokenOfLink('https://coaching.example.com/call?meeting=m-1')).toBeUndefined();
    expect(tokenOfLink('not a url')).toBeUndefined();
  });

  it('is kept per meeting: another meeting does not see it, and forgetting it removes it', () => {
    storeLink('m-1', 'jl1.one');
    storeLink('m-2', 'jl1.two');
    expect(storedLink('m-1')).toBe('jl1.one');
    expect(storedLink('m-2')).toBe('jl1.two');
    expect(storedLink('m-3')).toBeUndefined();
    forgetLink('m-1');
    expect(storedLink('m-1')).toBeUndefined();
    expect(storedLink('m-2')).toBe('jl1.two');
  });
});
