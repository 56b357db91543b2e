// Every decoding error names the file and what is wrong with it: with thousands of images in a run,
// "unexpected end of data" alone is useless.

export class ImageDecodeError extends Error {
  readonly path: string;
  constructor(path: string, message: string) {
    super(`${path}: ${message}`);
    this.name = "ImageDecodeError";
    this.path = path;
  }
}

/** Thrown for valid files we deliberately do not decode (e.g. JPEG-2000 DICOM). */
export class UnsupportedFormatError extends ImageDecodeError {
  constructor(path: string, message: string) {
    super(path, message);
    this.name = "UnsupportedFormatError";
  }
}
