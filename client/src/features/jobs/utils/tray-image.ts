// An image in the prompt box's tray: what it is to the job (its role), how the request names
// it, and how the page shows it. The roles' names and weights, and the request's fields.

import type { ImagineRequestInput } from '@shared/schemas/imagine';
import type { ParamKey } from '@shared/schemas/params-values';
import type { ImageReference, ReferenceRole } from '@shared/schemas/upload';

export interface TrayImage {
  key: string;
  role: ReferenceRole;
  ref: ImageReference;
  /** Our own URL of the image (an upload's, or a finished job's). */
  url: string;
  /** The file's name, or the prompt of the job it comes from. */
  name: string;
}

export const ROLE_LABELS: Record<ReferenceRole, string> = {
  image: 'Image prompt',
  style: 'Style reference',
  omni: 'Omni reference',
};

/** The parameter that weighs each role (--iw, --sw, --ow). */
export const ROLE_WEIGHTS = {
  image: 'image_weight',
  style: 'style_weight',
  omni: 'omni_weight',
} as const satisfies Record<ReferenceRole, ParamKey>;

type References = Pick<ImagineRequestInput, 'image_prompts' | 'style_refs' | 'omni_ref'>;

/** The tray as the submission names it: image_prompts, style_refs and omni_ref, each only when used. */
export function referencesOf(images: readonly TrayImage[]): References {
  const inRole = (role: ReferenceRole) => images.filter((image) => image.role === role).map((image) => image.ref);
  const [imagePrompts, styleRefs, [omni]] = [inRole('image'), inRole('style'), inRole('omni')];
  return {
    ...(imagePrompts.length > 0 ? { image_prompts: imagePrompts } : {}),
    ...(styleRefs.length > 0 ? { style_refs: styleRefs } : {}),
    ...(omni ? { omni_ref: omni } : {}),
  };
}
