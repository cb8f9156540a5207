import { useEffect, useState } from 'react';
import { api } from '../../api';
import { useQuery } from '../../hooks';
import { useI18n } from '../../i18n';
import { Icon } from '../../ui/Icons';

/** An object URL for a blob, revoked when the blob changes or the component goes away. */
export function useObjectUrl(blob: Blob | null | undefined): string | null {
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    if (!blob) {
      setUrl(null);
      return;
    }
    const next = URL.createObjectURL(blob);
    setUrl(next);
    return () => URL.revokeObjectURL(next);
  }, [blob]);
  return url;
}

/**
 * A seal impression on a faint checkerboard, so its transparent background shows as such.
 * `src` is an object URL; without one the frame shows `placeholder`.
 */
export function SealImageFrame({
  src,
  alt,
  placeholder,
  stale,
  size = 'medium',
  testId,
}: {
  src: string | null;
  alt: string;
  placeholder?: string;
  stale?: boolean;
  size?: 'small' | 'medium' | 'large';
  testId?: string;
}) {
  return (
    <div
      className={`seal-image seal-image-${size}${stale ? ' stale' : ''}`}
      data-testid={testId}
      data-loaded={src ? 'true' : 'false'}
    >
      {src ? (
        <img src={src} alt={alt} />
      ) : (
        <span className="seal-image-empty">
          <Icon name="seal" size={size === 'small' ? 22 : 34} />
          {placeholder && <span>{placeholder}</span>}
        </span>
      )}
    </div>
  );
}

/**
 * A stored seal image by its SHA-256. Images need the session token, so they are fetched
 * and shown through an object URL; one the caller may not see shows as "not available".
 */
export function SealImage({
  sha256,
  alt,
  size,
  testId = 'seal-image',
}: {
  sha256: string;
  alt: string;
  size?: 'small' | 'medium' | 'large';
  testId?: string;
}) {
  const { t } = useI18n();
  const image = useQuery(['SealImage.image', sha256], (signal) => api.sealImage(sha256, signal));
  const url = useObjectUrl(image.data);
  return (
    <SealImageFrame
      src={url}
      alt={alt}
      size={size}
      testId={testId}
      placeholder={image.error ? t('sealImage.unavailable') : image.loading ? t('common.loading') : undefined}
    />
  );
}
