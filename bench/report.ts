/**
 * The results: one row per figure with a cell per server, printed as an
 * aligned text table and written as Markdown (ready for docs/benchmarks.md)
 * and JSON.
 */
import type { BenchConfig, ServerName } from './config.js';
import type { Ceilings } from './ceilings.js';
import type { MachineInfo } from './machine.js';
import type { Metric } from './workloads.js';

export type Cell = { kind: 'value'; value: number } | { kind: 'error'; message: string } | { kind: 'skipped' };

export interface Row {
  workloadId: string;
  metric: Metric;
  cells: Partial<Record<ServerName, Cell>>;
}

export interface ServerInfo {
  name: ServerName;
  label: string;
  command: string;
}

export interface Results {
  date: string;
  totalSeconds: number;
  machine: MachineInfo;
  config: BenchConfig;
  ceilings: Ceilings | { error: string };
  servers: ServerInfo[];
  rows: Row[];
  /** Notes and full error messages, each prefixed with its server and workload. */
  notes: string[];
}

export function formatNumber(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 100) return Math.round(value).toLocaleString('en-US');
  if (abs >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

function cellText(cell: Cell | undefined, width = 28): string {
  if (cell === undefined || cell.kind === 'skipped') return '—';
  if (cell.kind === 'value') return formatNumber(cell.value);
  const text = `ERROR: ${cell.message.split('\n')[0] ?? ''}`;
  return text.length > width ? `${text.slice(0, width - 1)}…` : text;
}

/** first / second of two value cells, as `0.85×`, or — when either is missing. */
function ratioText(first: Cell | undefined, second: Cell | undefined): string {
  if (first?.kind !== 'value' || second?.kind !== 'value' || second.value === 0) return '—';
  return `${(first.value / second.value).toFixed(2)}×`;
}

function betterText(metric: Metric): string {
  return metric.better === 'higher' ? 'higher' : 'lower';
}

interface Table {
  header: string[];
  body: string[][];
}

function table(results: Results, errorWidth: number): Table {
  const servers = results.servers;
  const header = ['Workload', 'Unit', ...servers.map((s) => s.label)];
  const [a, b] = servers;
  const withRatio = a !== undefined && b !== undefined;
  if (withRatio) header.push(`${a.label}/${b.label}`, 'Better');
  const body = results.rows.map((row) => {
    const line = [row.metric.label, row.metric.unit, ...servers.map((s) => cellText(row.cells[s.name], errorWidth))];
    if (withRatio) line.push(ratioText(row.cells[a.name], row.cells[b.name]), betterText(row.metric));
    return line;
  });
  return { header, body };
}

function ceilingLines(results: Results): string[] {
  const c = results.ceilings;
  if ('error' in c) return [`Ceilings: ERROR ${c.error}`];
  const gib = (c.bytes / 1024 ** 3).toFixed(2);
  return [
    `node sha256 over ${gib} GiB: ${formatNumber(c.sha256MBps)} MB/s`,
    `sequential write + fsync of ${gib} GiB in the data dir's filesystem: ${formatNumber(c.diskWriteFsyncMBps)} MB/s`,
  ];
}

function machineLines(results: Results): string[] {
  const m = results.machine;
  return [
    `${m.cpus} CPUs (${m.cpuModel}), ${m.memoryGiB.toFixed(1)} GiB RAM, Linux ${m.kernel}, load average at start ${m.loadAverage}`,
    `node ${m.node}; ${m.wrk}; ${m.distribution}; Berth ${m.berthCommit}`,
  ];
}

export function renderText(results: Results): string {
  const { header, body } = table(results, 28);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? '').length)));
  const numeric = (i: number): boolean => i >= 2 && header[i] !== 'Better';
  const fmt = (cells: string[]): string =>
    cells.map((c, i) => (numeric(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  const lines = [
    `Berth vs Distribution — ${results.date} (${Math.round(results.totalSeconds)} s${results.config.quick ? ', BENCH_QUICK' : ''})`,
    ...machineLines(results),
    ...ceilingLines(results),
    '',
    fmt(header),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...body.map(fmt),
  ];
  if (results.notes.length > 0) lines.push('', 'Notes and errors:', ...results.notes.map((n) => `  - ${n.replace(/\n/g, '\n      ')}`));
  return lines.join('\n') + '\n';
}

export function renderMarkdown(results: Results): string {
  const { header, body } = table(results, 80);
  const escape = (s: string): string => s.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' / ');
  const lines = [
    `Run of ${results.date}, ${Math.round(results.totalSeconds)} s${results.config.quick ? ' (BENCH_QUICK=1)' : ''}.`,
    '',
    ...machineLines(results).map((l) => `- ${l}`),
    ...ceilingLines(results).map((l) => `- ${l}`),
    '',
    `| ${header.map(escape).join(' | ')} |`,
    `| ${header.map((h, i) => (i >= 2 && h !== 'Better' ? '---:' : '---')).join(' | ')} |`,
    ...body.map((r) => `| ${r.map(escape).join(' | ')} |`),
  ];
  if (results.notes.length > 0) lines.push('', ...results.notes.map((n) => `- ${escape(n)}`));
  return lines.join('\n') + '\n';
}
