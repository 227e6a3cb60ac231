/**
 * The image work, in a worker thread: decoding a camera photo in JavaScript takes a good part of
 * a second, which must not stall the process that runs the instances. Each message names an
 * operation on one image and gets the result, or `unreadable`.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parentPort } from 'node:worker_threads';
import type { ImageJob, ImageResult } from './images.js';

const require = createRequire(import.meta.url);
/** jimp 0.16: pure JavaScript, and the image library Baileys itself uses. */
const Jimp = require('jimp') as {
  read(data: Buffer): Promise<JimpImage>;
  MIME_JPEG: string;
  RESIZE_BILINEAR: string;
  AUTO: number;
};
interface JimpImage {
  bitmap: { width: number; height: number; data: Buffer };
  scaleToFit(w: number, h: number): JimpImage;
  contain(w: number, h: number): JimpImage;
  crop(x: number, y: number, w: number, h: number): JimpImage;
  resize(w: number, h: number, mode?: string): JimpImage;
  quality(q: number): JimpImage;
  getBufferAsync(mime: string): Promise<Buffer>;
}

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

const isWebp = (data: Buffer) => data.length >= 12 && data.toString('latin1', 0, 4) === 'RIFF' && data.toString('latin1', 8, 12) === 'WEBP';

async function run(job: ImageJob): Promise<Omit<ImageResult, 'id'>> {
  const data = Buffer.from(job.data);
  if (job.op === 'sticker' && isWebp(data)) return { data };
  let img: JimpImage;
  try {
    img = await Jimp.read(data);
  } catch {
    return { unreadable: true };
  }
  const { width, height } = img.bitmap;
  switch (job.op) {
    case 'check':
      return { width, height };
    case 'thumbnail':
      // What WhatsApp shows before the picture is downloaded: 32 px wide, as Baileys makes it.
      return { data: await img.quality(50).resize(32, Jimp.AUTO, Jimp.RESIZE_BILINEAR).getBufferAsync(Jimp.MIME_JPEG), width, height };
    case 'preview':
      return { data: await img.scaleToFit(192, 192).quality(60).getBufferAsync(Jimp.MIME_JPEG), width, height };
    case 'profile': {
      // WhatsApp keeps a 640 px square JPEG.
      const side = Math.min(width, height);
      return { data: await img.crop(0, 0, side, side).quality(50).resize(640, 640, Jimp.RESIZE_BILINEAR).getBufferAsync(Jimp.MIME_JPEG), width, height };
    }
    case 'sticker': {
      img.contain(512, 512);
      const { data: pixels } = img.bitmap;
      const encode = await webp();
      return { data: Buffer.from(await encode({ data: new Uint8ClampedArray(pixels.buffer, pixels.byteOffset, pixels.length), width: 512, height: 512, colorSpace: 'srgb' }, { quality: 80 })) };
    }
  }
}

parentPort!.on('message', (job: ImageJob) => {
  run(job).then(
    (r) => parentPort!.postMessage({ id: job.id, ...r }),
    (err: Error) => parentPort!.postMessage({ id: job.id, error: err.message }),
  );
});
