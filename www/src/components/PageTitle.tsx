import { useEffect, useRef } from 'react';
import { consumeInAppNavigation } from '../lib/router';

/**
 * Sets document.title and, after in-app navigation, moves focus to the page's heading so screen
 * reader and keyboard users start at the top of the new page (as a full page load would do).
 */
export function usePageTitle(title: string) {
  const headingRef = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · To Do`;
  }, [title]);
  useEffect(() => {
    if (consumeInAppNavigation()) headingRef.current?.focus();
  }, []);
  return headingRef;
}
