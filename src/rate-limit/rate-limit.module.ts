import { Module } from '@nestjs/common';
import { BudgetStore } from './budget-store.js';
import { RateBudgets } from './rate-budgets.service.js';

/** Rate budgets per connection: the façade `RateBudgets`, shared by syncs and the proxy. */
@Module({
  providers: [BudgetStore, RateBudgets],
  exports: [RateBudgets],
})
export class RateLimitModule {}
