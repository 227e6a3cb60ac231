import { Worker } from 'node:worker_threads';
import { HttpError } from '@plugchat/core';

export type ImageOp = 'check' | 'thumbnail' | 'preview' | 'profile' | 'sticker';
export interface ImageJob {
  id: number;
  op: ImageOp;
  data: Uint8Array;
}
export interface ImageResult {
  id: number;
  data?: Uint8Array;
  width?: number;
  height?: number;
  unreadable?: boolean;
  error?: string;
}

/**
 * Image work (reading, scaling, encoding) runs in one worker thread per process, started on first
 * use: it never holds the instances' event loop. It does not keep the process alive.
 */
class ImageWorker {
  private worker?: Worker;
  private next = 1;
  private readonly waiting = new Map<number, { resolve: (r: ImageResult) => void; reject: (e: Error) => void }>();

  run(op: ImageOp, data: Buffer): Promise<ImageResult> {
    const w = this.start();
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      w.ref();
      w.postMessage({ id, op, data: new Uint8Array(data) } satisfies ImageJob);
    });
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(new URL('./imageWork.js', import.meta.url));
    w.unref();
    w.on('message', (r: ImageResult) => {
      const p = this.waiting.get(r.id);
      this.waiting.delete(r.id);
      if (!this.waiting.size) w.unref();
      if (r.error) p?.reject(new Error(`image work failed: ${r.error}`));
      else p?.resolve(r);
    });
    // A worker that dies fails what it had and is started again on the next image.
    w.on('error', (err) => this.fail(w, err));
    w.on('exit', (code) => this.fail(w, new Error(`the image worker stopped (${code})`)));
    this.worker = w;
    return w;
  }

  private fail(w: Worker, err: Error) {
    if (this.worker !== w) return;
    this.worker = undefined;
    for (const p of this.waiting.values()) p.reject(err);
    this.waiting.clear();
  }
}

const images = new ImageWorker();

/** The result of an image the API was given, or a 400 naming the field when it is not one WhatsApp can show. */
async function work(op: ImageOp, data: Buffer, field: string): Promise<ImageResult> {
  const r = await images.run(op, data);
  if (r.unreadable) throw new HttpError(400, 'invalid_image', `${field} is not an image WhatsApp can show (JPEG, PNG, BMP, GIF or TIFF).`, { issues: [{ path: `body.${field}`, message: 'not a readable image' }] });
  return r;
}

/** Checks that the bytes are an image (JPEG, PNG, BMP, GIF or TIFF). */
export async function readImage(data: Buffer, field: string): Promise<{ width: number; height: number }> {
  const r = await work('check', data, field);
  return { width: r.width!, height: r.height! };
}

/** A link preview's thumbnail: the image scaled to fit 192 px, as a small JPEG. */
export async function previewThumbnail(data: Buffer, field: string): Promise<Buffer> {
  return Buffer.from((await work('preview', data, field)).data!);
}

/** A profile or group picture as WhatsApp keeps it: a 640 px square JPEG. */
export async function profilePicture(data: Buffer, field: string): Promise<Buffer> {
  return Buffer.from((await work('profile', data, field)).data!);
}

/**
 * A sticker as WhatsApp shows one: a WebP image of 512 × 512 px. A WebP goes as it is; any other
 * image is fitted into the square (transparent around it) and encoded as WebP.
 */
export async function toSticker(data: Buffer, field: string): Promise<Buffer> {
  return Buffer.from((await work('sticker', data, field)).data!);
}

/** The small picture shown before an image is downloaded, with the image's size; undefined when the bytes are no image. */
export async function imageThumbnail(data: Buffer): Promise<{ jpegThumbnail: string; width: number; height: number } | undefined> {
  const r = await images.run('thumbnail', data).catch(() => undefined);
  return r?.data ? { jpegThumbnail: Buffer.from(r.data).toString('base64'), width: r.width!, height: r.height! } : undefined;
}
