import { createRequire } from 'node:module';
import { HttpError } from '@plugchat/core';

const require = createRequire(import.meta.url);
/** jimp 0.16: pure JavaScript, and the image library Baileys itself uses for profile pictures and thumbnails. */
const Jimp = require('jimp') as {
  read(data: Buffer): Promise<{ scaleToFit(w: number, h: number): unknown; quality(q: number): unknown; getBufferAsync(mime: string): Promise<Buffer>; bitmap: { width: number; height: number } }>;
  MIME_JPEG: string;
};

/** An image the API was given, checked to be one (JPEG, PNG, BMP, GIF or TIFF), else a 400 naming the field. */
export async function readImage(data: Buffer, field: string) {
  try {
    return await Jimp.read(data);
  } catch {
    throw new HttpError(400, 'invalid_image', `${field} is not an image WhatsApp can show (JPEG, PNG, BMP, GIF or TIFF).`, { issues: [{ path: `body.${field}`, message: 'not a readable image' }] });
  }
}

/** A link preview's thumbnail: the image scaled to fit 192 px, as a small JPEG. */
export async function previewThumbnail(data: Buffer, field: string): Promise<Buffer> {
  const img = await readImage(data, field);
  img.scaleToFit(192, 192);
  img.quality(60);
  return img.getBufferAsync(Jimp.MIME_JPEG);
}

/** WhatsApp shows stickers only as WebP images (a RIFF container of kind WEBP). */
export function assertWebp(data: Buffer, field: string): void {
  if (data.length < 12 || data.toString('latin1', 0, 4) !== 'RIFF' || data.toString('latin1', 8, 12) !== 'WEBP') {
    throw new HttpError(400, 'invalid_sticker', `${field} must be a WebP image: WhatsApp shows stickers only as WebP (512 × 512 px is what its apps use).`, { issues: [{ path: `body.${field}`, message: 'not a WebP image' }] });
  }
}
