// Images as input: an owner's uploads (checked, stripped of metadata, kept beside the
// results), and the resolution of the images a submission names (an upload, or the kept
// image of a finished job) into what the upstream is given. Domain errors only.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { ImageReference, ReferenceRole } from '@shared/schemas/upload';
import { DomainError, UpstreamError } from '../errors';
import type { MediaFolder, MediaLinks } from '../media/media-links';
import { checkUpload, type UploadLimits } from '../media/upload-image';
import { contentTypeFor, type ImageFiles } from '../store/image-files';
import type { JobStore, StoredReference, UploadRecord } from '../store/job-store';
import type { ImageInput } from '../upstream/adapter';

export interface UploadServiceDeps {
  store: JobStore;
  /** Where uploads are kept (DATA_DIR/uploads). */
  files: ImageFiles;
  /** Where result images are kept (DATA_DIR/images). */
  images: ImageFiles;
  links: MediaLinks;
  limits: UploadLimits;
  now: () => number;
}

/** A random id that never holds `--`, since ids travel in links inside prompts. */
export function newUploadId(): string {
  for (;;) {
    const id = `up_${randomBytes(16).toString('base64url')}`;
    if (!id.includes('--')) return id;
  }
}

/** A file a signed media link may open: its path and type. */
export interface MediaFile {
  file: string;
  contentType: string;
}

export class UploadService {
  readonly #deps: UploadServiceDeps;

  constructor(deps: UploadServiceDeps) {
    this.#deps = deps;
  }

  get limits(): UploadLimits {
    return this.#deps.limits;
  }

  /** Checks the bytes (type by content, size, pixels), keeps a metadata-free copy and records it. */
  async save(ownerId: string, body: Buffer): Promise<UploadRecord> {
    const checked = await checkUpload(body, this.#deps.limits);
    const id = newUploadId();
    const file = await this.#deps.files.save(id, checked.body, checked.extension);
    const upload: UploadRecord = {
      id,
      ownerId,
      file,
      contentType: checked.contentType,
      width: checked.width,
      height: checked.height,
      bytes: checked.body.byteLength,
      createdAt: this.#deps.now(),
    };
    this.#deps.store.insertUpload(upload);
    return upload;
  }

  /** The owner's upload; anyone else's, or a deleted one, is "not found". */
  get(ownerId: string, id: string): UploadRecord {
    const upload = this.#deps.store.getUpload(id);
    if (!upload || upload.ownerId !== ownerId) throw new DomainError('not_found', 'No such upload');
    return upload;
  }

  /** Where the owner's upload is kept, to serve it. */
  fileOf(ownerId: string, id: string): MediaFile & { upload: UploadRecord } {
    const upload = this.get(ownerId, id);
    return { file: this.#deps.files.pathOf(upload.file), contentType: upload.contentType, upload };
  }

  async remove(ownerId: string, id: string): Promise<void> {
    const upload = this.get(ownerId, id);
    this.#deps.store.deleteUpload(id);
    await this.#deps.files.remove(upload.file);
  }

  /** Whether this server can hand an upstream a link to one of our images (it has an address). */
  get linksAvailable(): boolean {
    return this.#deps.links.available;
  }

  /**
   * Checks the images a submission names, in their roles, before the job is recorded: each
   * must be the owner's (an upload, or a finished job with a kept image). `inlineRoles`: the
   * roles the upstream takes as bytes; any other needs a link it can fetch.
   */
  check(
    ownerId: string,
    named: { role: ReferenceRole; ref: ImageReference }[],
    inlineRoles: readonly ReferenceRole[],
  ): StoredReference[] {
    return named.map(({ role, ref }) => {
      if (!inlineRoles.includes(role) && !this.#deps.links.available) {
        throw new DomainError(
          'conflict',
          `The upstream in use fetches ${ROLE_NAMES[role]} by link, and this server has no address it can reach: set PUBLIC_URL to the address this server is reached at`,
        );
      }
      if ('upload_id' in ref) {
        this.get(ownerId, ref.upload_id);
        return { role, uploadId: ref.upload_id };
      }
      this.#jobImage(ownerId, ref.job_id);
      return { role, jobId: ref.job_id };
    });
  }

  /** What the upstream is given for stored references, when the job is sent (perhaps after a restart). */
  inputs(ownerId: string, refs: readonly StoredReference[]): ImageInput[] {
    return refs.map((ref) => {
      const source =
        'uploadId' in ref
          ? { folder: 'uploads' as const, name: this.get(ownerId, ref.uploadId).file, files: this.#deps.files }
          : { folder: 'images' as const, name: this.#jobImage(ownerId, ref.jobId), files: this.#deps.images };
      const file = source.files.pathOf(source.name);
      return {
        role: ref.role,
        url: this.#deps.links.link(source.folder, source.name),
        load: async () => {
          try {
            return { body: await readFile(file), contentType: contentTypeFor(source.name) };
          } catch {
            // Deleted while the job waited: nothing was sent, and the job says why.
            throw new UpstreamError('rejected', 'An image this job uses was deleted before it was sent');
          }
        },
      };
    });
  }

  /** Our URL of a stored reference, for the job's owner to see; undefined once it is gone. */
  viewUrl(ref: StoredReference): string | undefined {
    if ('uploadId' in ref) return `/api/uploads/${ref.uploadId}/image`;
    const file = this.#deps.store.get(ref.jobId)?.imageFile;
    return file ? `/api/images/${file}` : undefined;
  }

  /** The file a signed media link names, when the signature holds. */
  mediaFile(folder: MediaFolder, name: string, expires: string, signature: string): MediaFile {
    if (!this.#deps.links.verify(folder, name, expires, signature)) {
      throw new DomainError('not_found', 'No such file, or the link has expired');
    }
    const files = folder === 'uploads' ? this.#deps.files : this.#deps.images;
    return { file: files.pathOf(name), contentType: contentTypeFor(name) };
  }

  #jobImage(ownerId: string, jobId: string): string {
    const job = this.#deps.store.get(jobId);
    if (!job || job.ownerId !== ownerId) throw new DomainError('not_found', 'No such job to use as an image');
    if (job.status !== 'complete' || !job.imageFile) {
      throw new DomainError('conflict', 'Only a finished job with an image can be used as an image');
    }
    return job.imageFile;
  }
}

const ROLE_NAMES: Record<ReferenceRole, string> = {
  image: 'image prompts',
  style: 'style references',
  omni: 'omni references',
};
