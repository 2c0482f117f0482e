import { render } from '@testing-library/react';
import type { ChartConfiguration } from 'chart.js';
import { describe, expect, it, vi } from 'vitest';
import WeeklyChart from './WeeklyChart';

// jsdom has no canvas: a stand-in Chart keeps what it was given.
const charts = vi.hoisted(() => ({ made: [] as { canvas: unknown; config: ChartConfiguration<'bar', number[], string>; update: ReturnType<typeof vi.fn>; destroy: ReturnType<typeof vi.fn> }[] }));
vi.mock('chart.js', () => {
  class Chart {
    static register = vi.fn();
    data: ChartConfiguration<'bar', number[], string>['data'];
    options: ChartConfiguration<'bar', number[], string>['options'];
    update = vi.fn();
    destroy = vi.fn();
    constructor(canvas: unknown, config: ChartConfiguration<'bar', number[], string>) {
      this.data = config.data;
      this.options = config.options;
      charts.made.push({ canvas, config, update: this.update, destroy: this.destroy });
    }
  }
  return { Chart, BarController: {}, BarElement: {}, CategoryScale: {}, LinearScale: {}, Legend: {}, Tooltip: {} };
});

const WEEKS = {
  labels: ['W47', 'W48'],
  titles: ['Week 47, from 16 Nov 2026', 'Week 48, from 23 Nov 2026'],
  created: [2, 3],
  completed: [1, 2],
};

describe('WeeklyChart', () => {
  it('draws created and completed bars per week on a canvas hidden from assistive technology, and lets go of it when it goes', () => {
    const { container, unmount, rerender } = render(<WeeklyChart {...WEEKS} />);
    const canvas = container.querySelector('canvas');
    expect(canvas?.closest('[aria-hidden="true"]')).toBeInTheDocument();

    const chart = charts.made.at(-1);
    if (!chart) throw new Error('no chart was made');
    expect(chart.canvas).toBe(canvas);
    expect(chart.config.type).toBe('bar');
    expect(chart.config.options?.responsive).toBe(true);
    expect(chart.config.options?.maintainAspectRatio).toBe(false);
    expect(chart.config.data.labels).toEqual(['W47', 'W48']);
    expect(chart.config.data.datasets.map((set) => [set.label, set.data])).toEqual([
      ['Created', [2, 3]],
      ['Completed', [1, 2]],
    ]);
    const title = chart.config.options?.plugins?.tooltip?.callbacks?.title as unknown as (items: { dataIndex: number }[]) => string;
    expect(title([{ dataIndex: 1 }])).toBe('Week 48, from 23 Nov 2026');

    // New numbers update the same chart.
    rerender(<WeeklyChart {...WEEKS} created={[2, 4]} />);
    expect(charts.made.at(-1)).toBe(chart);
    expect(chart.config.data.datasets[0].data).toEqual([2, 4]);
    expect(chart.update).toHaveBeenCalled();

    unmount();
    expect(chart.destroy).toHaveBeenCalled();
  });
});
