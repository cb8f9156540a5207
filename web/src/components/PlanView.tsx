import type { Plan } from '../api';
import { useI18n } from '../i18n';

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
                {level.approvers.length > 1 && <span className="muted small">{tx(`mode.${level.mode}`, level.mode)}</span>}
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
