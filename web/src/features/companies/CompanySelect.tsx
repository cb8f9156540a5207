import type { SelectHTMLAttributes } from 'react';
import { useDirectory } from '../users/directory';
import { useI18n } from '../../i18n';

/**
 * A native select of the companies the user may see, indented by tree depth.
 * Native, so that phones show their own picker. `filter` limits the choices
 * (e.g. to companies where the user may write).
 */
export function CompanySelect({
  value,
  onChange,
  allowEmpty,
  emptyLabel,
  filter,
  ...rest
}: Omit<SelectHTMLAttributes<HTMLSelectElement>, 'value' | 'onChange'> & {
  value: string;
  onChange: (companyId: string) => void;
  allowEmpty?: boolean;
  emptyLabel?: string;
  filter?: (companyId: string) => boolean;
}) {
  const { t } = useI18n();
  const directory = useDirectory();
  const top = directory.ordered[0]?.depth ?? 0;
  const options = directory.ordered.filter((c) => !filter || filter(c.id));
  return (
    <select className="input" value={value} onChange={(e) => onChange(e.target.value)} {...rest}>
      {(allowEmpty || !value) && <option value="">{emptyLabel ?? t('company.select')}</option>}
      {options.map((c) => (
        <option key={c.id} value={c.id} data-code={c.code}>
          {`${'\u2003'.repeat(Math.max(0, c.depth - top))}${c.name} (${c.code})${c.status === 'closed' ? ` · ${t('status.closed')}` : ''}`}
        </option>
      ))}
    </select>
  );
}
