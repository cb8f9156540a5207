import { useEffect, useState, type ReactNode } from 'react';
import type { Permission } from '../api';
import { useIsPhone } from '../hooks';
import { useI18n, type MessageKey } from '../i18n';
import { Link, useLocation } from '../router';
import { useUnread } from '../features/notifications/notifications';
import { usePermissionSet, useSession } from '../session';
import { Icon, SealMark, type IconName } from './Icons';
import { LanguageSwitcher } from './LanguageSwitcher';

interface NavItem {
  to: string;
  label: MessageKey;
  icon: IconName;
  needs?: Permission;
  testId: string;
}

export const navItems: NavItem[] = [
  { to: '/', label: 'nav.overview', icon: 'home', testId: 'nav-overview' },
  { to: '/apply', label: 'nav.apply', icon: 'stamp', testId: 'nav-apply' },
  { to: '/applications', label: 'nav.applications', icon: 'file', testId: 'nav-applications' },
  { to: '/contracts', label: 'nav.contracts', icon: 'contract', testId: 'nav-contracts' },
  { to: '/stamp', label: 'nav.stamp', icon: 'pen', testId: 'nav-stamp' },
  { to: '/verify', label: 'nav.verify', icon: 'verify', testId: 'nav-verify' },
  { to: '/inbox', label: 'nav.inbox', icon: 'inbox', testId: 'nav-inbox' },
  { to: '/notifications', label: 'nav.notifications', icon: 'bell', testId: 'nav-notifications' },
  { to: '/seals', label: 'nav.seals', icon: 'seal', needs: 'seals.read', testId: 'nav-seals' },
  { to: '/seals/new', label: 'nav.newSeal', icon: 'plus', needs: 'seals.manage', testId: 'nav-new-seal' },
  {
    to: '/reports/seal-permissions',
    label: 'nav.sealReport',
    icon: 'report',
    needs: 'seals.read',
    testId: 'nav-seal-report',
  },
  { to: '/devices', label: 'nav.devices', icon: 'shield', needs: 'seals.read', testId: 'nav-devices' },
  { to: '/seal-usage', label: 'nav.sealUsage', icon: 'clock', needs: 'seals.read', testId: 'nav-seal-usage' },
  { to: '/flows', label: 'nav.flows', icon: 'flow', needs: 'flows.manage', testId: 'nav-flows' },
  { to: '/companies', label: 'nav.companies', icon: 'building', needs: 'org.read', testId: 'nav-companies' },
  { to: '/departments', label: 'nav.departments', icon: 'layers', needs: 'org.read', testId: 'nav-departments' },
  { to: '/users', label: 'nav.users', icon: 'users', needs: 'org.read', testId: 'nav-users' },
  { to: '/roles', label: 'nav.roles', icon: 'shield', needs: 'org.read', testId: 'nav-roles' },
  { to: '/audit', label: 'nav.audit', icon: 'scroll', needs: 'audit.read', testId: 'nav-audit' },
  { to: '/api-keys', label: 'nav.apiKeys', icon: 'key', needs: 'api_keys.manage', testId: 'nav-api-keys' },
];

export function useVisibleNav(): NavItem[] {
  const permissions = usePermissionSet();
  return navItems.filter((item) => !item.needs || permissions.has(item.needs));
}

const covers = (item: NavItem, path: string) =>
  item.to === '/' ? path === '/' : path === item.to || path.startsWith(`${item.to}/`);

/** The entry for the page: the most specific one that covers the path (/seals/new is not the library). */
function isActive(item: NavItem, path: string): boolean {
  if (!covers(item, path)) return false;
  return !navItems.some((other) => other !== item && other.to.length > item.to.length && covers(other, path));
}

function UserChip() {
  const { me } = useSession();
  return (
    <div className="user-chip" data-testid="current-user">
      <span className="avatar" aria-hidden="true">
        {me.user.name.slice(0, 1).toUpperCase()}
      </span>
      <span className="user-chip-text">
        <span className="user-chip-name">{me.user.name}</span>
        <span className="user-chip-company">{me.company.name}</span>
      </span>
    </div>
  );
}

function SignOutButton() {
  const { t } = useI18n();
  const { signOut } = useSession();
  return (
    <button
      type="button"
      className="button button-ghost sign-out"
      onClick={() => void signOut()}
      data-testid="sign-out"
    >
      <Icon name="logout" size={16} />
      <span>{t('nav.signOut')}</span>
    </button>
  );
}

/** The bell: unread notifications, linking to the list. */
function NotificationBell() {
  const { t } = useI18n();
  const { count } = useUnread();
  const { path } = useLocation();
  const label = count > 0 ? t('notification.bellUnread', { n: count }) : t('notification.bell');
  return (
    <Link
      to="/notifications"
      className={`icon-button bell${path === '/notifications' ? ' active' : ''}`}
      aria-label={label}
      title={label}
      data-testid="notification-bell"
    >
      <Icon name="bell" size={21} />
      {count > 0 && (
        <span className="bell-count" data-testid="notification-count" aria-hidden="true">
          {count > 99 ? '99+' : count}
        </span>
      )}
    </Link>
  );
}

function NavList({ onNavigate }: { onNavigate?: () => void }) {
  const { t } = useI18n();
  const { path } = useLocation();
  const items = useVisibleNav();
  return (
    <ul className="nav-list">
      {items.map((item) => (
        <li key={item.to}>
          <Link
            to={item.to}
            className={isActive(item, path) ? 'active' : undefined}
            aria-current={isActive(item, path) ? 'page' : undefined}
            onClick={onNavigate}
            data-testid={item.testId}
          >
            <Icon name={item.icon} />
            <span>{t(item.label)}</span>
          </Link>
        </li>
      ))}
    </ul>
  );
}

/** Header, navigation (a sidebar on desktops, a drawer on phones) and the page. */
export function Layout({ children }: { children: ReactNode }) {
  const { t } = useI18n();
  const { me } = useSession();
  const { path } = useLocation();
  const [menuOpen, setMenuOpen] = useState(false);
  const isPhone = useIsPhone();

  useEffect(() => setMenuOpen(false), [path]);
  useEffect(() => {
    if (!menuOpen) return;
    const onKey = (event: KeyboardEvent) => event.key === 'Escape' && setMenuOpen(false);
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [menuOpen]);

  return (
    <div className={`shell${menuOpen ? ' menu-open' : ''}`}>
      <header className="topbar">
        <button
          type="button"
          className="icon-button menu-toggle"
          onClick={() => setMenuOpen((o) => !o)}
          aria-expanded={menuOpen}
          aria-controls="main-nav"
          aria-label={t('common.menu')}
          data-testid="nav-toggle"
        >
          <Icon name={menuOpen ? 'close' : 'menu'} size={22} />
        </button>
        <Link to="/" className="brand" aria-label={t('app.title')}>
          <SealMark size={30} />
          <span className="brand-text">
            <span className="brand-name">{t('app.name')}</span>
            <span className="brand-tagline">{t('app.tagline')}</span>
          </span>
        </Link>
        <span className="group-name" data-testid="group-name" title={me.group.name}>
          {me.group.name}
        </span>
        <div className="topbar-end">
          <NotificationBell />
          <LanguageSwitcher />
          {!isPhone && (
            <div className="topbar-user">
              <UserChip />
              <SignOutButton />
            </div>
          )}
        </div>
      </header>
      <div className="body">
        <nav id="main-nav" className="sidebar" aria-label={t('nav.main')}>
          <NavList onNavigate={() => setMenuOpen(false)} />
          {isPhone && (
            <div className="sidebar-user">
              <UserChip />
              <SignOutButton />
            </div>
          )}
        </nav>
        <div className="scrim" onClick={() => setMenuOpen(false)} aria-hidden="true" />
        <main className="content" id="content">
          {children}
        </main>
      </div>
    </div>
  );
}
