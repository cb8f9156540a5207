import { lazy, Suspense, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { api, ApiError, tokenStore, type Locale, type Me, type Permission } from './api';
import { DirectoryProvider } from './features/users/directory';
import { QueryClientProvider } from '@tanstack/react-query';
import { newQueryClient, useQuery } from './hooks';
import { useI18n } from './i18n';
import { matchPath, Redirect, useLocation } from './router';
import { SessionProvider, usePermissionSet, type Session } from './session';
import { Layout } from './ui/Layout';
import { Loading } from './ui/PageHeader';
import { ProblemMessage } from './ui/ProblemMessage';
import { UnreadProvider } from './features/notifications/notifications';
import { ChangePasswordPage } from './features/auth/ChangePasswordPage';
import { NotFoundPage, NoAccessPage } from './ui/NotFoundPage';

// Each page is a chunk of its own, fetched when first shown: the sign-in page and the first screen
// do not carry the seal designer, the flow editor or the audit log (npm run bench console).
const OverviewPage = lazy(() => import('./features/overview/OverviewPage').then((m) => ({ default: m.OverviewPage })));
const CompaniesPage = lazy(() =>
  import('./features/companies/CompaniesPage').then((m) => ({ default: m.CompaniesPage })),
);
const DepartmentsPage = lazy(() =>
  import('./features/users/DepartmentsPage').then((m) => ({ default: m.DepartmentsPage })),
);
const UsersPage = lazy(() => import('./features/users/UsersPage').then((m) => ({ default: m.UsersPage })));
const UserDetailPage = lazy(() =>
  import('./features/users/UserDetailPage').then((m) => ({ default: m.UserDetailPage })),
);
const RolesPage = lazy(() => import('./features/roles/RolesPage').then((m) => ({ default: m.RolesPage })));
const AuditPage = lazy(() => import('./features/audit/AuditPage').then((m) => ({ default: m.AuditPage })));
const ApiKeysPage = lazy(() => import('./features/api-keys/ApiKeysPage').then((m) => ({ default: m.ApiKeysPage })));
const ApplyPage = lazy(() => import('./features/approvals/ApplyPage').then((m) => ({ default: m.ApplyPage })));
const ApplicationsPage = lazy(() =>
  import('./features/approvals/ApplicationsPage').then((m) => ({ default: m.ApplicationsPage })),
);
const ApplicationPage = lazy(() =>
  import('./features/approvals/ApplicationPage').then((m) => ({ default: m.ApplicationPage })),
);
const InboxPage = lazy(() => import('./features/approvals/InboxPage').then((m) => ({ default: m.InboxPage })));
const NotificationsPage = lazy(() =>
  import('./features/notifications/NotificationsPage').then((m) => ({ default: m.NotificationsPage })),
);
const FlowsPage = lazy(() => import('./features/approvals/FlowsPage').then((m) => ({ default: m.FlowsPage })));
const FlowEditorPage = lazy(() =>
  import('./features/approvals/FlowEditorPage').then((m) => ({ default: m.FlowEditorPage })),
);
const SealsPage = lazy(() => import('./features/seals/SealsPage').then((m) => ({ default: m.SealsPage })));
const SealPage = lazy(() => import('./features/seals/SealPage').then((m) => ({ default: m.SealPage })));
const SealProductionPage = lazy(() =>
  import('./features/seal-lifecycle/SealProductionPage').then((m) => ({ default: m.SealProductionPage })),
);
const PermissionReportPage = lazy(() =>
  import('./features/seals/PermissionReportPage').then((m) => ({ default: m.PermissionReportPage })),
);
const VerifyPage = lazy(() => import('./features/signatures/VerifyPage').then((m) => ({ default: m.VerifyPage })));
const StampFromApplicationPage = lazy(() =>
  import('./features/signatures/StampPage').then((m) => ({ default: m.StampFromApplicationPage })),
);
const StampWithGrantPage = lazy(() =>
  import('./features/signatures/StampPage').then((m) => ({ default: m.StampWithGrantPage })),
);
const NewBatchPage = lazy(() => import('./features/signatures/BatchPages').then((m) => ({ default: m.NewBatchPage })));
const BatchPage = lazy(() => import('./features/signatures/BatchPages').then((m) => ({ default: m.BatchPage })));
const ContractsPage = lazy(() =>
  import('./features/contracts/ContractsPage').then((m) => ({ default: m.ContractsPage })),
);
const NewContractPage = lazy(() =>
  import('./features/contracts/NewContractPage').then((m) => ({ default: m.NewContractPage })),
);
const DevicesPage = lazy(() => import('./features/devices/DevicesPage').then((m) => ({ default: m.DevicesPage })));
const PhonePage = lazy(() => import('./features/devices/PhonePage').then((m) => ({ default: m.PhonePage })));
const UsagePage = lazy(() => import('./features/devices/UsagePage').then((m) => ({ default: m.UsagePage })));
const UsageReviewsPage = lazy(() =>
  import('./features/devices/UsageReviewPage').then((m) => ({ default: m.UsageReviewsPage })),
);
const UsageReviewPage = lazy(() =>
  import('./features/devices/UsageReviewPage').then((m) => ({ default: m.UsageReviewPage })),
);
const ContractPage = lazy(() => import('./features/contracts/ContractPage').then((m) => ({ default: m.ContractPage })));

interface Route {
  pattern: string;
  needs?: Permission;
  render: (params: Record<string, string>) => React.ReactNode;
}

const routes: Route[] = [
  { pattern: '/', render: () => <OverviewPage /> },
  { pattern: '/apply', render: () => <ApplyPage /> },
  { pattern: '/applications', render: () => <ApplicationsPage /> },
  {
    pattern: '/applications/:applicationId',
    render: (p) => <ApplicationPage key={p.applicationId} applicationId={p.applicationId ?? ''} />,
  },
  {
    pattern: '/applications/:applicationId/stamp/:sha256',
    render: (p) => (
      <StampFromApplicationPage
        key={`${p.applicationId}/${p.sha256}`}
        applicationId={p.applicationId ?? ''}
        sha256={p.sha256 ?? ''}
      />
    ),
  },
  {
    pattern: '/applications/:applicationId/relay',
    render: (p) => <PhonePage key={p.applicationId} applicationId={p.applicationId ?? ''} />,
  },
  { pattern: '/stamp', render: () => <StampWithGrantPage /> },
  { pattern: '/stamp/batch', render: () => <NewBatchPage /> },
  {
    pattern: '/stamp/batches/:batchId',
    render: (p) => <BatchPage key={p.batchId} batchId={p.batchId ?? ''} />,
  },
  { pattern: '/contracts', render: () => <ContractsPage /> },
  { pattern: '/contracts/new', render: () => <NewContractPage /> },
  {
    pattern: '/contracts/:contractId',
    render: (p) => <ContractPage key={p.contractId} contractId={p.contractId ?? ''} />,
  },
  { pattern: '/verify', render: () => <VerifyPage /> },
  { pattern: '/inbox', render: () => <InboxPage /> },
  { pattern: '/notifications', render: () => <NotificationsPage /> },
  { pattern: '/seals', needs: 'seals.read', render: () => <SealsPage /> },
  { pattern: '/seals/new', needs: 'seals.manage', render: () => <SealProductionPage /> },
  {
    pattern: '/seals/:sealId',
    needs: 'seals.read',
    render: (p) => <SealPage key={p.sealId} sealId={p.sealId ?? ''} />,
  },
  { pattern: '/reports/seal-permissions', needs: 'seals.read', render: () => <PermissionReportPage /> },
  { pattern: '/devices', needs: 'seals.read', render: () => <DevicesPage /> },
  { pattern: '/seal-usage', needs: 'seals.read', render: () => <UsagePage /> },
  { pattern: '/seal-usage/reviews', needs: 'seals.read', render: () => <UsageReviewsPage /> },
  {
    pattern: '/seal-usage/reviews/:reviewId',
    needs: 'seals.read',
    render: (p) => <UsageReviewPage key={p.reviewId} reviewId={p.reviewId ?? ''} />,
  },
  { pattern: '/flows', needs: 'flows.manage', render: () => <FlowsPage /> },
  { pattern: '/flows/new', needs: 'flows.manage', render: () => <FlowEditorPage key="new" /> },
  {
    pattern: '/flows/:flowId',
    needs: 'flows.manage',
    render: (p) => <FlowEditorPage key={p.flowId} flowId={p.flowId ?? ''} />,
  },
  { pattern: '/companies', needs: 'org.read', render: () => <CompaniesPage /> },
  { pattern: '/departments', needs: 'org.read', render: () => <DepartmentsPage /> },
  { pattern: '/users', needs: 'org.read', render: () => <UsersPage /> },
  {
    pattern: '/users/:userId',
    needs: 'org.read',
    render: (p) => <UserDetailPage key={p.userId} userId={p.userId ?? ''} />,
  },
  { pattern: '/roles', needs: 'org.read', render: () => <RolesPage /> },
  { pattern: '/audit', needs: 'audit.read', render: () => <AuditPage /> },
  { pattern: '/api-keys', needs: 'api_keys.manage', render: () => <ApiKeysPage /> },
];

function Routes() {
  const { path } = useLocation();
  const permissions = usePermissionSet();
  if (path === '/sign-in') return <Redirect to="/" />;
  for (const route of routes) {
    const params = matchPath(route.pattern, path);
    if (!params) continue;
    if (route.needs && !permissions.has(route.needs)) return <NoAccessPage />;
    // A boundary per route: leaving a page unmounts it at once (its timers, its pending loads) even
    // while the next page's chunk is still on its way, instead of keeping it alive but hidden.
    return (
      <Suspense key={route.pattern} fallback={<Loading />}>
        {route.render(params)}
      </Suspense>
    );
  }
  return <NotFoundPage />;
}

interface SignedInProps {
  onSignedOut: () => void;
  adoptLocale: (locale: Locale) => void;
}

/** The console for one session, with its own store of server state (dropped when the session ends). */
export function SignedIn(props: SignedInProps) {
  const [queryClient] = useState(newQueryClient);
  return (
    <QueryClientProvider client={queryClient}>
      <Session {...props} />
    </QueryClientProvider>
  );
}

const ME_KEY = 'sigil.me';

/**
 * Who I am. The last answer is kept in this tab's session storage, with the end of the token it
 * belongs to, so that the phone view reopens with no connection (issue 16 §9: the service worker
 * serves the console's shell, this the identity): it is used only when the server cannot be
 * reached, only for the same token, and the server still decides every request that follows.
 */
async function loadMe(signal: AbortSignal): Promise<Me> {
  const tokenTail = tokenStore.get()?.slice(-16) ?? '';
  try {
    const me = await api.me(signal);
    sessionStorage.setItem(ME_KEY, JSON.stringify({ tokenTail, me }));
    return me;
  } catch (error) {
    if (error instanceof ApiError && error.status === 0 && tokenTail) {
      const kept = JSON.parse(sessionStorage.getItem(ME_KEY) ?? 'null') as { tokenTail: string; me: Me } | null;
      if (kept?.tokenTail === tokenTail) return kept.me;
    }
    throw error;
  }
}

/** The console once a session exists: who I am, then the shell and the page. */
function Session({ onSignedOut, adoptLocale }: SignedInProps) {
  const { t } = useI18n();
  const me = useQuery(['SignedIn.me'], loadMe);
  const adopted = useRef(false);
  const user = me.data?.user;

  useEffect(() => {
    if (!user || adopted.current) return;
    adopted.current = true;
    adoptLocale(user.locale);
  }, [user, adoptLocale]);

  const signOut = useCallback(async () => {
    try {
      await api.signOut();
    } catch {
      // The session may already be over; signing out locally is what matters.
    }
    onSignedOut();
  }, [onSignedOut]);

  const session = useMemo<Session | null>(
    () => (me.data ? { me: me.data, reloadMe: me.reload, signOut } : null),
    [me.data, me.reload, signOut],
  );

  if (!session) {
    return (
      <div className="boot">
        {me.error ? (
          <div className="boot-error">
            <ProblemMessage error={me.error} />
            <button type="button" className="button" onClick={me.reload}>
              {t('common.retry')}
            </button>
          </div>
        ) : (
          <Loading />
        )}
      </div>
    );
  }
  // A password someone else chose (a new group's first administrator): nothing else until it is changed.
  if (session.me.passwordChangeRequired)
    return <ChangePasswordPage onChanged={me.reload} onSignOut={() => void signOut()} />;
  const canReadOrg = session.me.permissions.some((p) => p.permission === 'org.read');
  return (
    <SessionProvider value={session}>
      <DirectoryProvider enabled={canReadOrg}>
        <UnreadProvider>
          <Layout>
            <Routes />
          </Layout>
        </UnreadProvider>
      </DirectoryProvider>
    </SessionProvider>
  );
}
