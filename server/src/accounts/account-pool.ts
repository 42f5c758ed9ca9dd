// The upstream accounts the server works with, each with its own adapter, request budget and
// health; a pool of one when the environment names a single upstream. Jobs name the account
// they were sent to (JobRecord.account); one recorded before accounts were counts as the first's.
import type { KeyBudget } from '../budget/key-budget';
import type { UpstreamAdapter } from '../upstream/adapter';
import type { AccountHealth } from './account-health';
import type { AccountSpec } from './accounts-file';

export interface Account {
  readonly spec: AccountSpec;
  /**
   * Where its API is (the simulator's loopback address for a simulated account); its result
   * links are trusted on that host alone. Undefined where a test replaced the adapter.
   */
  readonly baseUrl: string | undefined;
  readonly adapter: UpstreamAdapter;
  readonly budget: KeyBudget;
  readonly health: AccountHealth;
}

export class AccountPool {
  readonly #accounts: readonly Account[];
  readonly #byName = new Map<string, Account>();
  readonly #pooled: boolean;

  /**
   * `pooled`: the accounts come from ACCOUNTS_FILE. Without it (the environment's single
   * upstream) jobs record no account name, so that moving to a pool later makes them the
   * pool's first account's, whatever it is called.
   */
  constructor(accounts: readonly Account[], options: { pooled: boolean }) {
    if (accounts.length === 0) throw new Error('A pool needs at least one account');
    this.#accounts = accounts;
    this.#pooled = options.pooled;
    for (const account of accounts) this.#byName.set(account.spec.name, account);
  }

  /** What a job sent through this account records as its account (null: the first, unnamed). */
  recordedName(account: Account): string | null {
    return this.#pooled ? account.spec.name : null;
  }

  /** The first account: the one jobs recorded before accounts were belong to. */
  get first(): Account {
    return this.#accounts[0] as Account;
  }

  get size(): number {
    return this.#accounts.length;
  }

  /** The account of that name; null stands for the first (a job recorded before pools). */
  get(name: string | null): Account | undefined {
    return name === null ? this.first : this.#byName.get(name);
  }

  all(): readonly Account[] {
    return this.#accounts;
  }

  /** Accounts that may take new work when healthy (not switched off in the file). */
  enabled(): Account[] {
    return this.#accounts.filter((account) => account.spec.enabled);
  }
}
