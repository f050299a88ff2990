import { useEffect, useRef, useState } from 'preact/hooks';

/**
 * The window of fixed-height rows a scroller shows: `first` to `last` (exclusive) of `count`, with `overscan`
 * rows either side, following its scrolling and its size. Attach `ref` and `onScroll` to the scroller.
 */
export function useVirtualRows(count: number, rowHeight: number, overscan = 8) {
  const ref = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(600);
  useEffect(() => {
    const element = ref.current!;
    const observer = new ResizeObserver(() => setHeight(element.clientHeight));
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  return {
    ref,
    onScroll: (event: Event) => setScrollTop((event.target as HTMLElement).scrollTop),
    first: Math.max(0, Math.floor(scrollTop / rowHeight) - overscan),
    last: Math.min(count, Math.ceil((scrollTop + height) / rowHeight) + overscan),
  };
}
