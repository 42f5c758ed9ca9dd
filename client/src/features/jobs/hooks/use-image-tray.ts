// The prompt box's images: each file is uploaded as it arrives (dropped, pasted or picked)
// and then shown with its role; a finished job's image joins by reference. Each role has
// room for so many (the contract's limits); a new image takes the first role with room.
import type { ReferenceRole } from '@shared/schemas/upload';
import { useRef, useState } from 'react';
import type { Contract } from '@/lib/api-client';
import { useUploadImage } from '../api/upload-image';
import type { TrayImage } from '../utils/tray-image';

interface Uploading {
  key: string;
  name: string;
  role: ReferenceRole;
}

interface TrayState {
  images: TrayImage[];
  uploading: Uploading[];
  errors: string[];
}

/** An image that joins from elsewhere on the page; a new `id` each time. */
export interface IncomingImage {
  id: number;
  image: Omit<TrayImage, 'key' | 'role'>;
}

type Limits = Record<ReferenceRole, number>;

const limitsOf = (contract: Contract | undefined): Limits => ({
  image: contract?.MAX_IMAGE_PROMPTS ?? 0,
  style: contract?.MAX_STYLE_REFS ?? 0,
  omni: 1,
});

/** Roles with room left, counting uploads under way; `except` is an image about to change role. */
export function rolesWithRoom(state: Pick<TrayState, 'images' | 'uploading'>, limits: Limits, except?: string) {
  const used = (role: ReferenceRole) =>
    [...state.images, ...state.uploading].filter((item) => item.role === role && item.key !== except).length;
  return (['image', 'style', 'omni'] as const).filter((role) => used(role) < limits[role]);
}

export function useImageTray(initial: TrayImage[], incoming: IncomingImage | undefined, contract?: Contract) {
  const [state, setState] = useState<TrayState>({ images: initial, uploading: [], errors: [] });
  const [seenIncoming, setSeenIncoming] = useState(incoming?.id);
  const counter = useRef(0);
  const upload = useUploadImage();
  const limits = limitsOf(contract);
  const nextKey = () => `tray-${++counter.current}`;
  // The first role with room; omni only when asked for (it is one image, for model 7).
  const roomFor = (current: TrayState) => rolesWithRoom(current, limits).find((role) => role !== 'omni');
  const full = `The tray is full: up to ${limits.image} image prompts and ${limits.style} style references`;

  // A job's image offered by its card: taken in while rendering, once per offer.
  if (incoming && incoming.id !== seenIncoming) {
    setSeenIncoming(incoming.id);
    const role = roomFor(state);
    setState(
      role
        ? { ...state, images: [...state.images, { ...incoming.image, key: nextKey(), role }], errors: [] }
        : { ...state, errors: [full] },
    );
  }

  function addFiles(files: readonly File[]) {
    const next: TrayState = { ...state, uploading: [...state.uploading], errors: [] };
    const started: Uploading[] = [];
    for (const file of files) {
      const role = roomFor(next);
      if (!role) {
        next.errors = [full];
        break;
      }
      const item = { key: nextKey(), name: file.name || 'pasted image', role };
      next.uploading.push(item);
      started.push(item);
    }
    setState(next);
    started.forEach((item, index) => {
      const file = files[index];
      if (!file) return;
      upload.mutateAsync(file).then(
        (answer) =>
          setState((current) => ({
            ...current,
            uploading: current.uploading.filter(({ key }) => key !== item.key),
            images: [
              ...current.images,
              {
                key: item.key,
                role: item.role,
                ref: { upload_id: answer.upload_id },
                url: answer.url,
                name: item.name,
              },
            ],
          })),
        (error: unknown) =>
          setState((current) => ({
            ...current,
            uploading: current.uploading.filter(({ key }) => key !== item.key),
            errors: [...current.errors, `${item.name}: ${error instanceof Error ? error.message : 'not uploaded'}`],
          })),
      );
    });
  }

  return {
    ...state,
    limits,
    addFiles,
    remove: (key: string) =>
      setState((current) => ({ ...current, images: current.images.filter((i) => i.key !== key) })),
    setRole: (key: string, role: ReferenceRole) =>
      setState((current) => ({
        ...current,
        images: current.images.map((image) => (image.key === key ? { ...image, role } : image)),
      })),
  };
}

export type ImageTray = ReturnType<typeof useImageTray>;
