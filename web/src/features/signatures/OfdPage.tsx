import { api, type DocumentPages } from '../../api';
import { useQuery } from '../../hooks';
import { useI18n } from '../../i18n';
import { ProblemMessage } from '../../ui/ProblemMessage';
import { useObjectUrl } from '../seals/SealImage';

/**
 * One page of an OFD as the server draws it (GET /documents/{sha256}/pages/{page}/image), for the
 * console has no OFD renderer of its own: the page the seal goes on, seen before stamping.
 */
export function OfdPageImage({ sha256, page }: { sha256: string; page: number }) {
  const { t } = useI18n();
  const image = useQuery(['OfdPageImage', sha256, page], (signal) => api.documentPageImage(sha256, page, signal));
  const url = useObjectUrl(image.data);
  if (image.error) return <ProblemMessage error={image.error} testId="ofd-page-problem" />;
  if (!url) {
    return (
      <span className="stamp-page-loading muted small" aria-busy="true">
        {t('ofd.pageLoading', { page })}
      </span>
    );
  }
  return <img className="stamp-page-image" src={url} alt="" data-testid="ofd-page-image" data-page={page} />;
}

/** A page of an OFD alone (no seal spot): what the document looks like while keyword or cross-page placement is chosen. */
export function OfdPagePreview({ sha256, pages, page }: { sha256: string; pages: DocumentPages; page: number }) {
  const { t } = useI18n();
  const [, , bw, bh] = (pages.pages[page - 1] ?? pages.last).box;
  return (
    <figure className="stamp-preview" data-testid="ofd-preview">
      <div
        className="stamp-page stamp-page-ofd"
        style={{ aspectRatio: `${bw} / ${bh}` }}
        role="img"
        aria-label={t('ofd.pagePreview', { page })}
      >
        <OfdPageImage sha256={sha256} page={page} />
      </div>
      <figcaption className="muted small">{t('ofd.pagePreview', { page })}</figcaption>
    </figure>
  );
}
