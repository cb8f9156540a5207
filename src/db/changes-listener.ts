import type pg from 'pg';

/**
 * Listens on a PostgreSQL channel with a connection of its own, reconnecting after a
 * failure, and calls `onChange` for every notification (and after each reconnect, since
 * notifications sent while disconnected are lost).
 */
export function listenForChanges(options: {
  databaseUrl: string;
  channel: string;
  onChange: () => void;
  onError: (error: Error) => void;
}): { close(): Promise<void> } {
  let client: pg.Client | undefined;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;

  const connect = async () => {
    const { default: driver } = await import('pg');
    const next = new driver.Client({ connectionString: options.databaseUrl });
    next.on('notification', () => options.onChange());
    next.on('error', (error) => {
      options.onError(error);
      schedule();
    });
    try {
      await next.connect();
      await next.query(`listen ${options.channel}`);
      client = next;
      options.onChange();
    } catch (error) {
      options.onError(error as Error);
      await next.end().catch(() => undefined);
      schedule();
    }
  };
  const schedule = () => {
    if (closed || retry) return;
    client = undefined;
    retry = setTimeout(() => {
      retry = undefined;
      void connect();
    }, 1_000);
  };
  void connect();
  return {
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      await client?.end().catch(() => undefined);
    },
  };
}
