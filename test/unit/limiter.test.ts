import { Semaphore } from '../../harness/limiter';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('connection slots shared fairly between services', () => {
  it('side by side, one service never takes the last free slot: another service gets one at once', async () => {
    const s = new Semaphore(4);
    s.keepOneFree = true;
    expect(s.perKey).toBe(3);
    const slow = await Promise.all([s.acquire(undefined, 'tcp/23'), s.acquire(undefined, 'tcp/23'), s.acquire(undefined, 'tcp/23')]);
    let fourth = false;
    void s.acquire(undefined, 'tcp/23').then(() => (fourth = true));
    await tick();
    expect(fourth).toBe(false);
    expect(s.inUse).toBe(3);
    // The TLS probe's connection does not wait behind the telnet logins.
    const tls = await s.acquire(undefined, 'tcp/443');
    expect(s.inUse).toBe(4);
    tls();
    await tick();
    // Freed by another service: the waiting telnet login still may not hold a fourth.
    expect(fourth).toBe(false);
    slow[0]();
    await tick();
    expect(fourth).toBe(true);
    expect(s.inUse).toBe(3);
  });

  it('a freed slot goes to the waiting service that holds the fewest, first come first served among equals', async () => {
    const s = new Semaphore(2);
    const order: string[] = [];
    const a1 = await s.acquire(undefined, 'a');
    const a2 = await s.acquire(undefined, 'a');
    const waiters = [
      s.acquire(undefined, 'a').then((r) => (order.push('a'), r)),
      s.acquire(undefined, 'b').then((r) => (order.push('b1'), r)),
      s.acquire(undefined, 'b').then((r) => (order.push('b2'), r)),
    ];
    a1();
    await tick();
    // 'a' holds one, 'b' none: b first, though a asked earlier.
    expect(order).toEqual(['b1']);
    a2();
    await tick();
    // a holds none now, b one: a next.
    expect(order).toEqual(['b1', 'a']);
    for (const r of await Promise.all(waiters.slice(0, 2))) r();
    await tick();
    expect(order).toEqual(['b1', 'a', 'b2']);
    (await waiters[2])();
    expect(s.inUse).toBe(0);
  });

  it('turning keepOneFree off lets a service held back at its share take the free slot at once', async () => {
    const s = new Semaphore(4);
    s.keepOneFree = true;
    for (let i = 0; i < 3; i++) await s.acquire(undefined, 'tcp/23');
    let fourth = false;
    void s.acquire(undefined, 'tcp/23').then(() => (fourth = true));
    await tick();
    expect(fourth).toBe(false);
    s.keepOneFree = false;
    await tick();
    expect(fourth).toBe(true);
  });

  it('one probe alone (keepOneFree off) may use every slot; fewer than three slots are never held back', () => {
    const s = new Semaphore(4);
    expect(s.perKey).toBe(4);
    const two = new Semaphore(2);
    two.keepOneFree = true;
    expect(two.perKey).toBe(2);
  });

  it('an aborted wait leaves the queue, and the global cap still holds across devices with keys', async () => {
    const global = new Semaphore(2);
    const dev = new Semaphore(4, global);
    const r1 = await dev.acquire(undefined, 'x');
    const r2 = await dev.acquire(undefined, 'y');
    const ac = new AbortController();
    const waiting = dev.acquire(ac.signal, 'z');
    await tick();
    ac.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow('stop');
    expect(dev.inUse).toBe(2);
    r1();
    r2();
    expect(global.inUse).toBe(0);
    expect(dev.inUse).toBe(0);
  });
});
