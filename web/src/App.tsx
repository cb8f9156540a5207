import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { api, setUnauthorizedHandler, tokenStore, type Locale, type Permission } from './api';
import { forgetDepartments } from './departments';
import { DirectoryProvider } from './directory';
import { useQuery } from './hooks';
import { browserLocale, I18nContext, makeI18n, storedLocale, storeLocale, translate, useI18n } from './i18n';
import { matchPath, navigate, Redirect, useLocation } from './router';
import { SessionProvider, usePermissionSet, type Session } from './session';
import { Layout } from './components/Layout';
import { Loading } from './components/PageHeader';
import { ProblemMessage } from './components/ProblemMessage';
import { ToastProvider } from './components/Toast';
import { SignInPage } from './pages/SignInPage';
import { ChangePasswordPage } from './pages/ChangePasswordPage';
import { OverviewPage } from './pages/OverviewPage';
import { CompaniesPage } from './pages/CompaniesPage';
import { DepartmentsPage } from './pages/DepartmentsPage';
import { UsersPage } from './pages/UsersPage';
import { UserDetailPage } from './pages/UserDetailPage';
import { RolesPage } from './pages/RolesPage';
import { AuditPage } from './pages/AuditPage';
import { ApiKeysPage } from './pages/ApiKeysPage';
import { ApplyPage } from './pages/ApplyPage';
import { ApplicationsPage } from './pages/ApplicationsPage';
import { ApplicationPage } from './pages/ApplicationPage';
import { InboxPage } from './pages/InboxPage';
import { NotificationsPage } from './pages/NotificationsPage';
import { FlowsPage } from './pages/FlowsPage';
import { FlowEditorPage } from './pages/FlowEditorPage';
import { SealsPage } from './pages/SealsPage';
import { SealPage } from './pages/SealPage';
import { SealProductionPage } from './pages/SealProductionPage';
import { PermissionReportPage } from './pages/PermissionReportPage';
import { StampFromApplicationPage, StampWithGrantPage } from './pages/StampPage';
import { VerifyPage } from './pages/VerifyPage';
import { UnreadProvider } from './notifications';
import { NotFoundPage, NoAccessPage } from './pages/NotFoundPage';

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
  { pattern: '/stamp', render: () => <StampWithGrantPage /> },
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
    return <>{route.render(params)}</>;
  }
  return <NotFoundPage />;
}

/** The console once a session exists: who I am, then the shell and the page. */
function SignedIn({ onSignedOut, adoptLocale }: { onSignedOut: () => void; adoptLocale: (locale: Locale) => void }) {
  const { t } = useI18n();
  const me = useQuery((signal) => api.me(signal), []);
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

export function App() {
  const [locale, setLocaleState] = useState<Locale>(() => storedLocale() ?? browserLocale());
  const [token, setToken] = useState<string | null>(() => tokenStore.get());
  const [notice, setNotice] = useState<string | null>(null);
  /** A language picked on the sign-in page wins over the profile's, and is saved to it. */
  const chosenBeforeSignIn = useRef(false);

  useEffect(() => {
    document.documentElement.lang = locale;
    document.title = translate(locale, 'app.title');
  }, [locale]);

  useEffect(() => {
    setUnauthorizedHandler(() => {
      tokenStore.clear();
      setToken(null);
      setNotice('signIn.sessionEnded');
    });
  }, []);

  const setLocale = useCallback((next: Locale) => {
    setLocaleState(next);
    storeLocale(next);
    if (tokenStore.get()) api.updateMe({ locale: next }).catch(() => undefined);
    else chosenBeforeSignIn.current = true;
  }, []);

  const localeRef = useRef(locale);
  localeRef.current = locale;
  const adoptLocale = useCallback((profileLocale: Locale) => {
    const current = localeRef.current;
    if (chosenBeforeSignIn.current) {
      if (profileLocale !== current) api.updateMe({ locale: current }).catch(() => undefined);
      return;
    }
    storeLocale(profileLocale);
    setLocaleState(profileLocale);
  }, []);

  const i18n = useMemo(() => makeI18n(locale, setLocale), [locale, setLocale]);

  const signedIn = useCallback((newToken: string) => {
    tokenStore.set(newToken);
    setNotice(null);
    setToken(newToken);
  }, []);

  const signedOut = useCallback(() => {
    tokenStore.clear();
    forgetDepartments();
    chosenBeforeSignIn.current = false;
    setToken(null);
    navigate('/');
  }, []);

  return (
    <I18nContext.Provider value={i18n}>
      <ToastProvider>
        {token ? (
          <SignedIn key={token} onSignedOut={signedOut} adoptLocale={adoptLocale} />
        ) : (
          <SignInPage
            onSignedIn={signedIn}
            notice={notice === 'signIn.sessionEnded' ? i18n.t('signIn.sessionEnded') : null}
          />
        )}
      </ToastProvider>
    </I18nContext.Provider>
  );
}
