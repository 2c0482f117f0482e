/**
 * The bar chart of the stats page, drawn by Chart.js on a canvas. It is loaded only when the page
 * is opened (React.lazy), so the list never downloads it. It is hidden from assistive technology:
 * the table beside it holds the same numbers.
 */
import { useEffect, useRef } from 'react';
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip, type ChartConfiguration } from 'chart.js';

// Only what a bar chart uses, so the rest of Chart.js is left out of the bundle.
Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

export interface WeeklyChartProps {
  /** A short label per week under its bars ("W37"). */
  labels: string[];
  /** A full name per week for the tooltip ("Week 37, from 7 Sep 2026"). */
  titles: string[];
  created: number[];
  completed: number[];
}

type BarChart = Chart<'bar', number[], string>;

/** Room for one week's label under the bars ("W37" and some space), in CSS pixels. */
const LABEL_WIDTH = 48;

/** The page's colours, read from its CSS custom properties so the chart follows light and dark mode. */
function palette(element: Element) {
  const style = getComputedStyle(element);
  const read = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
  return {
    created: read('--accent', '#4f46e5'),
    completed: read('--success', '#1f7a4d'),
    text: read('--text-muted', '#5b6175'),
    grid: read('--border', '#dcdfe8'),
  };
}

function paint(chart: BarChart, canvas: HTMLCanvasElement): void {
  const colours = palette(canvas);
  const [created, completed] = chart.data.datasets;
  created.backgroundColor = colours.created;
  completed.backgroundColor = colours.completed;
  const scales = chart.options.scales ?? {};
  for (const scale of Object.values(scales)) {
    if (!scale) continue;
    if (scale.ticks) scale.ticks.color = colours.text;
    if (scale.grid) scale.grid.color = colours.grid;
  }
  const legend = chart.options.plugins?.legend?.labels;
  if (legend) legend.color = colours.text;
}

export default function WeeklyChart({ labels, titles, created, completed }: WeeklyChartProps) {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const chartRef = useRef<BarChart | null>(null);
  const titlesRef = useRef(titles);
  // The numbers the chart is first drawn with; later ones go through update() below.
  const initial = useRef({ labels, created, completed });

  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas) return;
    const first = initial.current;
    const config: ChartConfiguration<'bar', number[], string> = {
      type: 'bar',
      data: {
        labels: first.labels,
        datasets: [
          { label: 'Created', data: first.created, borderRadius: 3, maxBarThickness: 22 },
          { label: 'Completed', data: first.completed, borderRadius: 3, maxBarThickness: 22 },
        ],
      },
      options: {
        // Fill the box that CSS sizes, and follow it when the window (or phone) changes size.
        responsive: true,
        maintainAspectRatio: false,
        // Numbers, not a show: bars appear at once (and nothing moves for those who asked for less motion).
        animation: false,
        scales: {
          x: {
            grid: { display: false },
            ticks: {
              // As many labels as fit, counted back from the current week so that it is always labelled.
              autoSkip: false,
              maxRotation: 0,
              callback(value, index) {
                const count = this.chart.data.labels?.length ?? 0;
                const every = Math.max(1, Math.ceil(count / Math.max(1, Math.floor(this.chart.width / LABEL_WIDTH))));
                return (count - 1 - index) % every === 0 ? this.getLabelForValue(Number(value)) : '';
              },
            },
          },
          y: { beginAtZero: true, ticks: { precision: 0 }, grid: {} },
        },
        plugins: {
          legend: { position: 'bottom', labels: { boxWidth: 12, boxHeight: 12 } },
          tooltip: { callbacks: { title: (items) => titlesRef.current[items[0]?.dataIndex ?? 0] ?? '' } },
        },
      },
    };
    const chart = new Chart(canvas, config);
    chartRef.current = chart;
    paint(chart, canvas);

    const dark = window.matchMedia?.('(prefers-color-scheme: dark)');
    const repaint = () => {
      paint(chart, canvas);
      chart.update('none');
    };
    dark?.addEventListener('change', repaint);
    return () => {
      dark?.removeEventListener('change', repaint);
      chart.destroy();
      chartRef.current = null;
    };
  }, []);

  useEffect(() => {
    titlesRef.current = titles;
    const chart = chartRef.current;
    if (!chart || (chart.data.labels === labels && chart.data.datasets[0].data === created && chart.data.datasets[1].data === completed)) return;
    chart.data.labels = labels;
    chart.data.datasets[0].data = created;
    chart.data.datasets[1].data = completed;
    chart.update();
  }, [labels, titles, created, completed]);

  return (
    <div className="stats-chart" aria-hidden="true">
      <canvas ref={canvasRef} />
    </div>
  );
}
