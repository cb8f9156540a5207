import type { ApplicationStatus, LifecycleAction, TaskStatus } from '../../api';
import { categoryName, useI18n } from '../../i18n';

const applicationTone: Record<ApplicationStatus, string> = {
  pending: 'info',
  approved: 'ok',
  rejected: 'danger',
  withdrawn: 'muted',
  closed: 'muted',
};
const taskTone: Record<TaskStatus, string> = {
  pending: 'info',
  approved: 'ok',
  rejected: 'danger',
  transferred: 'muted',
  cancelled: 'muted',
};

export function ApplicationStatusBadge({ status }: { status: ApplicationStatus }) {
  const { tx } = useI18n();
  return (
    <span
      className={`badge badge-${applicationTone[status] ?? 'muted'}`}
      data-testid="application-status"
      data-status={status}
    >
      {tx(`appStatus.${status}`, status)}
    </span>
  );
}

export function TaskStatusBadge({ status }: { status: TaskStatus }) {
  const { tx } = useI18n();
  return (
    <span className={`badge badge-${taskTone[status] ?? 'muted'}`} data-testid="task-status" data-status={status}>
      {tx(`taskStatus.${status}`, status)}
    </span>
  );
}

/** A business category as a small tag: 销售, 法务… or a custom category's name. */
export function CategoryTag({ category }: { category: string | null }) {
  const i18n = useI18n();
  return (
    <span className="tag" data-category={category ?? ''}>
      {categoryName(i18n, category)}
    </span>
  );
}

/** What an application is for: its business category, or for a lifecycle application its step (制作, 变更…). */
export function PurposeTag({
  purpose,
  category,
  lifecycleAction,
}: {
  purpose: string;
  category: string | null;
  lifecycleAction?: LifecycleAction | null;
}) {
  const { t, tx } = useI18n();
  if (purpose === 'sod_change') return <span className="tag">{t('sodChange.tag')}</span>;
  if (purpose !== 'lifecycle') return <CategoryTag category={category} />;
  return (
    <span className="tag" data-lifecycle={lifecycleAction ?? ''}>
      {lifecycleAction ? tx(`lifecycle.step.${lifecycleAction}`, lifecycleAction) : t('lifecycle.tag')}
    </span>
  );
}

/** The choices of a business-category select: a prompt, then each category by its name. */
export function CategoryOptions({ categories }: { categories: readonly string[] }) {
  const i18n = useI18n();
  return (
    <>
      <option value="">{i18n.t('category.choose')}</option>
      {categories.map((c) => (
        <option key={c} value={c}>
          {categoryName(i18n, c)}
        </option>
      ))}
    </>
  );
}
