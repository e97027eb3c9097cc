/**
 * Fault injection: checked at the top of every ModelArts request (not `/_sim/*`), before the
 * signature. New kinds of fault (latency, dropped connections, sold-out flavors) belong here.
 */
export interface InjectedFailure {
  readonly status: number;
  readonly errorCode: string;
  readonly errorMsg: string;
}

export class Faults {
  private readonly pendingFailures: InjectedFailure[] = [];

  /** The next `times` requests answer with this failure instead of being served. */
  failNext(failure: InjectedFailure, times = 1): void {
    for (let i = 0; i < times; i++) this.pendingFailures.push(failure);
  }

  /** The failure this request must answer with, if one is pending (each is used once). */
  takeFailure(): InjectedFailure | undefined {
    return this.pendingFailures.shift();
  }
}
