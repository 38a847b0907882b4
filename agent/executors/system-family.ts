/** The executors that manage the system around files: commands, packages, services, accounts, custom programs. */
import { customExecutor } from './custom.ts';
import { execExecutor } from './exec.ts';
import { groupExecutor } from './group.ts';
import { packageExecutor } from './package.ts';
import { serviceExecutor } from './service.ts';
import type { Executor } from './types.ts';
import { userExecutor } from './user.ts';

export const systemFamilyExecutors: readonly Executor[] = [
  execExecutor,
  packageExecutor,
  serviceExecutor,
  userExecutor,
  groupExecutor,
  customExecutor,
];
