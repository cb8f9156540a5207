/** @jsxImportSource preact */
import { useEffect, useRef, useState } from 'preact/hooks';
import { useText } from './text';

type Point = [number, number];

/** The drawn signature as it is sent: a PNG with a transparent background, trimmed to the ink. */
export interface DrawnSignature {
  dataUrl: string;
  /** The PNG in base64, without the data: prefix (what the server takes). */
  base64: string;
  width: number;
  height: number;
}

/** Pen width in CSS pixels: reads as a pen on a phone and stays legible when the image is scaled into a field. */
const LINE_WIDTH = 2.6;
const INK = '#14161a';
/** The PNG is drawn at this many pixels per CSS pixel (sharp when printed), within MAX_PNG_SIDE. */
const EXPORT_SCALE = 3;
const MAX_PNG_SIDE = 1500;
/** Less ink than this (in CSS pixels of stroke length) is a tap or a slip, not a signature. */
const MIN_INK_LENGTH = 40;

function drawStrokes(context: CanvasRenderingContext2D, strokes: Point[][]): void {
  context.lineWidth = LINE_WIDTH;
  context.lineCap = 'round';
  context.lineJoin = 'round';
  context.strokeStyle = INK;
  context.fillStyle = INK;
  for (const stroke of strokes) {
    const [first, ...rest] = stroke;
    if (!first) continue;
    if (rest.length === 0) {
      context.beginPath();
      context.arc(first[0], first[1], LINE_WIDTH / 2, 0, Math.PI * 2);
      context.fill();
      continue;
    }
    context.beginPath();
    context.moveTo(first[0], first[1]);
    for (const [x, y] of rest) context.lineTo(x, y);
    context.stroke();
  }
}

function inkLength(strokes: Point[][]): number {
  let length = 0;
  for (const stroke of strokes)
    for (let i = 1; i < stroke.length; i++)
      length += Math.hypot(stroke[i]![0] - stroke[i - 1]![0], stroke[i]![1] - stroke[i - 1]![1]);
  return length;
}

/** Renders the strokes again, off screen, into a PNG as large as the ink and a small margin. */
export function exportSignature(strokes: Point[][]): DrawnSignature | null {
  const points = strokes.flat();
  if (points.length === 0) return null;
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  const margin = LINE_WIDTH / 2 + 4;
  const left = Math.min(...xs) - margin;
  const top = Math.min(...ys) - margin;
  const width = Math.max(...xs) + margin - left;
  const height = Math.max(...ys) + margin - top;
  const scale = Math.min(EXPORT_SCALE, MAX_PNG_SIDE / width, MAX_PNG_SIDE / height);
  const canvas = document.createElement('canvas');
  canvas.width = Math.max(1, Math.ceil(width * scale));
  canvas.height = Math.max(1, Math.ceil(height * scale));
  const context = canvas.getContext('2d');
  if (!context) return null;
  context.setTransform(scale, 0, 0, scale, -left * scale, -top * scale);
  drawStrokes(context, strokes);
  const dataUrl = canvas.toDataURL('image/png');
  return {
    dataUrl,
    base64: dataUrl.slice(dataUrl.indexOf(',') + 1),
    width: canvas.width,
    height: canvas.height,
  };
}

/**
 * The signature pad: a finger, a pen or the mouse draws (pointer events, one pointer at a time, so
 * a palm resting beside the finger adds nothing); undo takes back the last stroke, clear all of
 * them. The strokes are kept as points, so a rotated phone redraws them and the PNG is drawn anew
 * at print resolution rather than copied from the screen.
 */
export function SignaturePad({
  name,
  onChange,
  onUse,
}: {
  name: string;
  /** The ink changed: what was adopted before no longer shows what is on the pad. */
  onChange: () => void;
  onUse: (signature: DrawnSignature) => void;
}) {
  const { t } = useText();
  const canvas = useRef<HTMLCanvasElement>(null);
  const strokes = useRef<Point[][]>([]);
  const active = useRef<number | null>(null);
  const [count, setCount] = useState(0);
  const [problem, setProblem] = useState(false);

  const redraw = () => {
    const element = canvas.current;
    const context = element?.getContext('2d');
    if (!element || !context) return;
    const ratio = window.devicePixelRatio || 1;
    const { width, height } = element.getBoundingClientRect();
    if (element.width !== Math.round(width * ratio) || element.height !== Math.round(height * ratio)) {
      element.width = Math.round(width * ratio);
      element.height = Math.round(height * ratio);
    }
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.clearRect(0, 0, width, height);
    drawStrokes(context, strokes.current);
  };

  useEffect(() => {
    const element = canvas.current;
    if (!element) return;
    const observer = new ResizeObserver(() => redraw());
    observer.observe(element);
    return () => observer.disconnect();
  }, []);

  const pointOf = (event: PointerEvent): Point => {
    const box = canvas.current!.getBoundingClientRect();
    return [event.clientX - box.left, event.clientY - box.top];
  };

  const changed = () => {
    setCount(strokes.current.length);
    setProblem(false);
    onChange();
  };

  const down = (event: PointerEvent) => {
    if (active.current !== null || (event.pointerType === 'mouse' && event.button !== 0)) return;
    event.preventDefault();
    canvas.current!.setPointerCapture(event.pointerId);
    active.current = event.pointerId;
    strokes.current.push([pointOf(event)]);
    redraw();
  };

  const move = (event: PointerEvent) => {
    if (event.pointerId !== active.current) return;
    event.preventDefault();
    const stroke = strokes.current.at(-1)!;
    // Coalesced events: every sample of a fast stroke, not only one per frame.
    const samples = typeof event.getCoalescedEvents === 'function' ? event.getCoalescedEvents() : [];
    for (const sample of samples.length > 0 ? samples : [event]) stroke.push(pointOf(sample));
    redraw();
  };

  const up = (event: PointerEvent) => {
    if (event.pointerId !== active.current) return;
    active.current = null;
    changed();
  };

  const undo = () => {
    strokes.current.pop();
    redraw();
    changed();
  };

  const clear = () => {
    strokes.current = [];
    redraw();
    changed();
  };

  const use = () => {
    const signature = inkLength(strokes.current) >= MIN_INK_LENGTH ? exportSignature(strokes.current) : null;
    if (!signature) {
      setProblem(true);
      return;
    }
    onUse(signature);
  };

  return (
    <section className="card pad-card" id="signature-pad" aria-labelledby="pad-title" data-testid="sign-pad-card">
      <h2 id="pad-title">{t('pad.title')}</h2>
      <p className="muted">{t('pad.hint', { name })}</p>
      <div className="pad-frame">
        <canvas
          ref={canvas}
          className="pad"
          role="img"
          aria-label={t('pad.label')}
          data-testid="sign-pad"
          data-strokes={count}
          onPointerDown={down}
          onPointerMove={move}
          onPointerUp={up}
          onPointerCancel={up}
        />
      </div>
      <div className="pad-actions">
        <button type="button" className="button" onClick={undo} disabled={count === 0} data-testid="sign-pad-undo">
          {t('pad.undo')}
        </button>
        <button type="button" className="button" onClick={clear} disabled={count === 0} data-testid="sign-pad-clear">
          {t('pad.clear')}
        </button>
        <button type="button" className="button button-primary" onClick={use} data-testid="sign-pad-use">
          {t('pad.use')}
        </button>
      </div>
      {problem && (
        <p className="problem" role="alert" data-testid="sign-pad-problem">
          {t('pad.empty')}
        </p>
      )}
    </section>
  );
}
