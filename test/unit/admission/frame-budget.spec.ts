import { setImmediate as nextTurn } from 'node:timers/promises';
import { FrameBudget } from '../../../src/admission/frame-budget';

describe('FrameBudget', () => {
  it('lets a connection have `perTurn` frames per turn of the loop, each connection its own', async () => {
    const budget = new FrameBudget(3);
    const a = { budgetTurn: 0, budgetUsed: 0 };
    const b = { budgetTurn: 0, budgetUsed: 0 };
    expect([1, 2, 3, 4].map(() => budget.take(a))).toEqual([true, true, true, false]);
    expect(budget.take(b)).toBe(true);
    await nextTurn();
    expect(budget.take(a)).toBe(true);
  });

  it('is off at 0', () => {
    const budget = new FrameBudget(0);
    const a = { budgetTurn: 0, budgetUsed: 0 };
    for (let i = 0; i < 1000; i++) expect(budget.take(a)).toBe(true);
    expect(budget.enabled).toBe(false);
  });
});
