import { useEffect, useState } from 'react';
import { api, type AppNotification } from '../../api';
import { Icon } from '../../ui/Icons';
import { LoadState, PageHeader } from '../../ui/PageHeader';
import { ProblemMessage } from '../../ui/ProblemMessage';
import { useToast } from '../../ui/Toast';
import { useMutation, useQuery } from '../../hooks';
import { useI18n } from '../../i18n';
import { useUnread } from './notifications';
import { href, navigate, useLocation } from '../../router';

const PAGE_SIZE = 30;

/** My notifications, newest first; opening one marks it read and follows its link. */
export function NotificationsPage() {
  const i18n = useI18n();
  const { t } = i18n;
  const notify = useToast();
  const unread = useUnread();
  const { query } = useLocation();
  const unreadOnly = query.get('unread') === '1';
  const [more, setMore] = useState<{ key: string; items: AppNotification[]; cursor: string | null }>({
    key: '',
    items: [],
    cursor: null,
  });
  const key = String(unreadOnly);

  const first = useQuery(['NotificationsPage.first', unreadOnly], (signal) =>
    api.notifications({ ...(unreadOnly ? { unread: 'true' as const } : {}), limit: PAGE_SIZE }, signal),
  );
  const extra = more.key === key ? more : { key, items: [], cursor: null };
  const items = [...(first.data?.items ?? []), ...extra.items];
  const nextCursor = extra.items.length > 0 ? extra.cursor : (first.data?.nextCursor ?? null);

  // The count in the bell follows what this page loads.
  const { refresh } = unread;
  useEffect(() => {
    if (first.data) refresh();
  }, [first.data, refresh]);

  const loadMore = useMutation(
    (cursor: string) =>
      api.notifications({ ...(unreadOnly ? { unread: 'true' as const } : {}), limit: PAGE_SIZE, cursor }),
    (page) => setMore({ key, items: [...extra.items, ...page.items], cursor: page.nextCursor }),
  );

  const readAll = useMutation(
    () => api.readAllNotifications(),
    () => {
      notify(t('notification.markedAll'));
      setMore({ key: '', items: [], cursor: null });
      first.reload();
      unread.refresh();
    },
  );

  const open = (n: AppNotification) => {
    if (!n.read) {
      api.readNotification(n.id).then(
        () => unread.refresh(),
        () => undefined,
      );
    }
    if (n.link?.startsWith('/') && !n.link.startsWith('//')) navigate(n.link);
    else if (!n.read) {
      first.setData((page) => ({
        items: (page?.items ?? []).map((x) => (x.id === n.id ? { ...x, read: true } : x)),
        nextCursor: page?.nextCursor ?? null,
      }));
    }
  };

  return (
    <>
      <PageHeader
        title={t('notification.title')}
        actions={
          <button
            type="button"
            className="button"
            onClick={() => void readAll.run()}
            disabled={readAll.busy || unread.count === 0}
            data-testid="notification-read-all"
          >
            <Icon name="check" size={16} />
            {t('notification.readAll')}
          </button>
        }
      />
      <div className="toolbar">
        <label className="toolbar-check">
          <input
            type="checkbox"
            checked={unreadOnly}
            onChange={(e) => navigate(href('/notifications', { unread: e.target.checked && '1' }), { replace: true })}
            data-testid="notification-unread-only"
          />
          <span>{t('notification.unreadOnly')}</span>
        </label>
      </div>
      <ProblemMessage error={readAll.error} />
      <section className="card card-flush">
        <LoadState
          loading={first.loading && !first.data}
          error={first.error}
          empty={items.length === 0}
          onRetry={first.reload}
          emptyText={t('notification.empty')}
        />
        {items.length > 0 && (
          <ul className="entry-list" data-testid="notification-list">
            {items.map((n) => (
              <li key={n.id}>
                <button
                  type="button"
                  className={`entry notification${n.read ? '' : ' unread'}`}
                  onClick={() => open(n)}
                  data-testid="notification"
                  data-kind={n.kind}
                  data-read={n.read}
                >
                  <span className="entry-head">
                    <span className="entry-title">
                      {!n.read && <span className="unread-dot" aria-label={t('notification.unread')} />}
                      {n.title}
                    </span>
                  </span>
                  <span className="entry-text prewrap">{n.body}</span>
                  <span className="entry-meta">
                    <span>{i18n.formatDate(n.createdAt)}</span>
                  </span>
                  {n.link && <Icon name="chevron" size={16} className="entry-arrow" />}
                </button>
              </li>
            ))}
          </ul>
        )}
        {nextCursor && (
          <div className="pager">
            <button
              type="button"
              className="button button-small"
              disabled={loadMore.busy}
              onClick={() => void loadMore.run(nextCursor)}
            >
              {t('common.loadMore')}
            </button>
          </div>
        )}
      </section>
    </>
  );
}
