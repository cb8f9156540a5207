import { useEffect, useState } from 'react';
import type { ApiError, Plan } from '../../api';
import { useQuery } from '../../hooks';
import { useI18n } from '../../i18n';
import { ProblemMessage } from '../../ui/ProblemMessage';

/** The levels of approvers and the CC an application gets (or would get), in order. */
export function PlanView({ plan, testId = 'plan' }: { plan: Plan; testId?: string }) {
  const { t, tx } = useI18n();
  return (
    <div className="plan" data-testid={testId}>
      <p className="muted small plan-flow">{t('apply.flow', { name: plan.flowName, version: plan.flowVersion })}</p>
      <ol className="plan-levels">
        {plan.levels.map((level, index) => (
          <li key={index} className="plan-level" data-testid="plan-level">
            <span className="plan-step" aria-hidden="true">
              {index + 1}
            </span>
            <div className="plan-body">
              <div className="plan-name">
                <span className="sr-only">{t('apply.level', { n: index + 1 })}: </span>
                <strong>{level.name}</strong>
                {level.approvers.length > 1 && (
                  <span className="muted small">{tx(`mode.${level.mode}`, level.mode)}</span>
                )}
              </div>
              <ul className="people">
                {level.approvers.map((a) => (
                  <li key={a.id} className="person-chip" data-testid="plan-approver">
                    <span className="avatar avatar-small" aria-hidden="true">
                      {a.name.slice(0, 1).toUpperCase()}
                    </span>
                    {a.name}
                  </li>
                ))}
              </ul>
            </div>
          </li>
        ))}
      </ol>
      <div className="plan-cc">
        <span className="plan-cc-label">{t('apply.cc')}</span>
        {plan.cc.length === 0 ? (
          <span className="muted small">{t('apply.noCc')}</span>
        ) : (
          <ul className="people">
            {plan.cc.map((c) => (
              <li key={c.id} className="person-chip" data-testid="plan-cc">
                {c.name}
              </li>
            ))}
          </ul>
        )}
      </div>
    </div>
  );
}

export interface PlanPreviewState {
  /** Whether the form says enough to ask who approves. */
  wanted: boolean;
  /** Whether the answer on hand is for what the form says now. */
  current: boolean;
  loading: boolean;
  plan: Plan | null;
  error: ApiError | null;
}

/**
 * Who would approve, asked a moment after the fields that decide it last changed: `key`
 * encodes those fields (empty while they do not say enough) and `load` asks the server.
 * `what` names what is asked about (the kind of application and its seal), as the answers are kept by it and `key`.
 */
export function usePlanPreview(
  what: string,
  key: string,
  load: (key: string, signal: AbortSignal) => Promise<Plan>,
): PlanPreviewState {
  // What the form says when it opens is asked at once; later changes a moment after the last one.
  const [settled, setSettled] = useState(key);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(key), 300);
    return () => clearTimeout(timer);
  }, [key]);
  const query = useQuery(['PlanView.plan', what, settled], (signal) =>
    settled ? load(settled, signal) : Promise.resolve(null),
  );
  return {
    wanted: Boolean(key),
    current: settled === key && Boolean(key),
    loading: query.loading,
    plan: query.data ?? null,
    error: query.error,
  };
}

/** The approvers an application would get, before it is sent: a hint until the form says enough, then the plan or why there is none. */
export function PlanPreview({ state, hint, testId }: { state: PlanPreviewState; hint?: string; testId: string }) {
  const { t } = useI18n();
  return (
    <div
      className="plan-preview"
      data-testid={testId}
      aria-live="polite"
      aria-busy={state.wanted && (!state.current || state.loading)}
    >
      {!state.wanted ? (
        <p className="muted small">{hint}</p>
      ) : state.error && state.current ? (
        <ProblemMessage error={state.error} testId={`${testId}-problem`} />
      ) : state.plan && state.current && !state.loading ? (
        <PlanView plan={state.plan} testId={`${testId}-plan`} />
      ) : (
        <div className="loading">
          <span className="spinner" aria-hidden="true" />
          {t('apply.previewLoading')}
        </div>
      )}
    </div>
  );
}
