/**
 * aws-local-stepfunctions 3 calls `Promise.withResolvers` (Node 22) in every Task state. On Node 20
 * the call throws a TypeError that a `States.ALL` Catch then silently turns into a normal-looking
 * error path, so the polyfill must be installed before any execution runs.
 */
interface Resolvers {
  promise: Promise<unknown>;
  resolve(value: unknown): void;
  reject(reason: unknown): void;
}

const PromiseWithResolvers = Promise as PromiseConstructor & { withResolvers?: () => Resolvers };

if (typeof PromiseWithResolvers.withResolvers !== 'function') {
  PromiseWithResolvers.withResolvers = function withResolvers(): Resolvers {
    let resolve!: (value: unknown) => void;
    let reject!: (reason: unknown) => void;
    const promise = new Promise<unknown>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}

export {};
