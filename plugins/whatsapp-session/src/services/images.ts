import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { HttpError } from '@plugchat/core';

const require = createRequire(import.meta.url);
/** jimp 0.16: pure JavaScript, and the image library Baileys itself uses for profile pictures and thumbnails. */
const Jimp = require('jimp') as {
  read(data: Buffer): Promise<{
    scaleToFit(w: number, h: number): unknown;
    contain(w: number, h: number): unknown;
    quality(q: number): unknown;
    getBufferAsync(mime: string): Promise<Buffer>;
    bitmap: { width: number; height: number; data: Buffer };
  }>;
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

const isWebp = (data: Buffer) => data.length >= 12 && data.toString('latin1', 0, 4) === 'RIFF' && data.toString('latin1', 8, 12) === 'WEBP';

type WebpEncode = (image: { data: Uint8ClampedArray; width: number; height: number; colorSpace: 'srgb' }, o: { quality: number }) => Promise<ArrayBuffer>;
let webpEncoder: Promise<WebpEncode> | undefined;

/** libwebp compiled to WebAssembly (Squoosh's codec, shipped in the npm package: nothing is downloaded). */
function webp(): Promise<WebpEncode> {
  if (!webpEncoder) {
    webpEncoder = (async () => {
      const [codec, { simd }] = await Promise.all([import('@jsquash/webp/encode.js'), import('wasm-feature-detect')]);
      const file = require.resolve((await simd()) ? '@jsquash/webp/codec/enc/webp_enc_simd.wasm' : '@jsquash/webp/codec/enc/webp_enc.wasm');
      // The codec's WebAssembly is handed over as bytes (emscripten's wasmBinary): Node has no fetch for a file URL.
      await codec.init({ wasmBinary: readFileSync(file) } as never);
      return codec.default as unknown as WebpEncode;
    })();
  }
  return webpEncoder;
}

/**
 * A sticker as WhatsApp shows one: a WebP image of 512 × 512 px. A WebP goes as it is; any other
 * image is fitted into the square (transparent around it) and encoded as WebP.
 */
export async function toSticker(data: Buffer, field: string): Promise<Buffer> {
  if (isWebp(data)) return data;
  const img = await readImage(data, field);
  img.contain(512, 512);
  const { data: pixels, width, height } = img.bitmap;
  const encode = await webp();
  return Buffer.from(await encode({ data: new Uint8ClampedArray(pixels.buffer, pixels.byteOffset, pixels.length), width, height, colorSpace: 'srgb' }, { quality: 80 }));
}
