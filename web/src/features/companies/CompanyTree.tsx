import { useEffect, useRef, useState } from 'react';
import type { Company } from '../../api';
import { useDirectory } from '../users/directory';
import { useI18n } from '../../i18n';
import { Icon } from '../../ui/Icons';

/**
 * The company tree. Top companies start open; opening a node whose children are not
 * all loaded yet fetches them (?parentId=), so a group of thousands stays quick.
 */
export function CompanyTree({ selectedId, onSelect }: { selectedId: string | null; onSelect: (id: string) => void }) {
  const directory = useDirectory();
  const [expanded, setExpanded] = useState<Set<string>>(() => new Set());

  // Whatever is selected (from a link or a search) is revealed: its ancestors open.
  useEffect(() => {
    if (!selectedId) return;
    const chain = directory.ancestry(selectedId).slice(0, -1);
    if (chain.length === 0) return;
    setExpanded((previous) => {
      if (chain.every((c) => previous.has(c.id))) return previous;
      const next = new Set(previous);
      chain.forEach((c) => next.add(c.id));
      return next;
    });
  }, [selectedId, directory]);

  // Top companies open once, when they first appear; a user's collapse is respected after that.
  const seenRoots = useRef(new Set<string>());
  useEffect(() => {
    const fresh = directory.roots.filter((r) => !seenRoots.current.has(r.id));
    if (fresh.length === 0) return;
    fresh.forEach((r) => seenRoots.current.add(r.id));
    setExpanded((previous) => new Set([...previous, ...fresh.map((r) => r.id)]));
  }, [directory.roots]);

  const toggle = (id: string) => {
    setExpanded((previous) => {
      const next = new Set(previous);
      if (next.has(id)) next.delete(id);
      else {
        next.add(id);
        void directory.loadChildren(id);
      }
      return next;
    });
  };

  return (
    <ul className="tree" role="tree" data-testid="company-tree">
      {directory.roots.map((c) => (
        <TreeNode
          key={c.id}
          company={c}
          level={0}
          expanded={expanded}
          selectedId={selectedId}
          onToggle={toggle}
          onSelect={onSelect}
        />
      ))}
    </ul>
  );
}

function TreeNode({
  company,
  level,
  expanded,
  selectedId,
  onToggle,
  onSelect,
}: {
  company: Company;
  level: number;
  expanded: Set<string>;
  selectedId: string | null;
  onToggle: (id: string) => void;
  onSelect: (id: string) => void;
}) {
  const { t } = useI18n();
  const directory = useDirectory();
  const children = directory.childrenOf(company.id);
  const hasChildren = (company.childCount ?? children.length) > 0 || children.length > 0;
  const isOpen = expanded.has(company.id);
  const isSelected = selectedId === company.id;
  return (
    <li role="treeitem" aria-expanded={hasChildren ? isOpen : undefined} aria-selected={isSelected}>
      <div
        className={`tree-row${isSelected ? ' selected' : ''}${company.status === 'closed' ? ' closed' : ''}`}
        style={{ paddingLeft: `${level * 18 + 4}px` }}
      >
        {hasChildren ? (
          <button
            type="button"
            className={`tree-caret${isOpen ? ' open' : ''}`}
            onClick={() => onToggle(company.id)}
            aria-label={isOpen ? t('company.collapse') : t('company.expand')}
            data-testid={`company-toggle-${company.code}`}
          >
            <Icon name="chevron" size={14} />
          </button>
        ) : (
          <span className="tree-caret-space" />
        )}
        <button
          type="button"
          className="tree-label"
          onClick={() => onSelect(company.id)}
          data-testid={`company-node-${company.code}`}
        >
          <span className="tree-name">{company.name}</span>
          <span className="code">{company.code}</span>
          {company.status === 'closed' && <span className="badge badge-muted">{t('status.closed')}</span>}
        </button>
      </div>
      {hasChildren && isOpen && children.length > 0 && (
        <ul role="group">
          {children.map((child) => (
            <TreeNode
              key={child.id}
              company={child}
              level={level + 1}
              expanded={expanded}
              selectedId={selectedId}
              onToggle={onToggle}
              onSelect={onSelect}
            />
          ))}
        </ul>
      )}
    </li>
  );
}
