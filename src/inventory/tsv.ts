import type { InventoryReport, InventoryRow } from '../domain/inventory';

/** TSV cells hold no tab or newline (a reason is free text). */
const cell = (v: string | number | undefined): string =>
  v === undefined ? '' : String(v).replace(/[\t\n\r]/g, ' ');

/**
 * The runbook's inventory TSV — name, created_time, current_version — followed by type, risk,
 * age in days, policy limit in days, status and (for unknown rows) the reason. No header, so
 * `while read` loops written for the runbook's output keep working.
 */
export function inventoryTsv(report: InventoryReport): string {
  const line = (r: InventoryRow) =>
    [r.name, r.createdTime, r.currentVersion, r.type, r.risk, r.ageDays, r.maxAgeDays, r.status, r.reason]
      .map(cell)
      .join('\t');
  return report.rows.map((r) => `${line(r)}\n`).join('');
}
