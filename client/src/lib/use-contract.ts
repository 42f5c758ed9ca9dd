// The contract chunk in a component: there at once when it has arrived (in the app it always
// has, since the studio shows only after the session answer), else once it does.
import { type Contract, contractModule } from './api-client';
import { useLazyModule } from './lazy-module';

export const useContract = (): Contract | undefined => useLazyModule(contractModule);
