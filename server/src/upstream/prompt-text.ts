// How a submission's images and parameters become what an upstream reads: links of our images
// join the prompt (image prompts in front, style and omni references as --sref and --oref),
// except those the upstream takes as bytes; the prompt text is printed from the shared table.
import type { PromptParams } from '@shared/schemas/params-values';
import { parsePrompt, printPrompt } from '@shared/schemas/prompt-params';
import type { ReferenceRole } from '@shared/schemas/upload';
import { UpstreamError } from '../errors';
import type { ImageInput, SubmitInput } from './adapter';

/** `{a, b}`: Midjourney would run one billed job per combination. */
const PERMUTATION = /\{[^{}]*,[^{}]*\}/;

export interface PreparedPrompt {
  /** The prompt text with every parameter and every linked image. */
  prompt: string;
  /** The images the upstream takes as bytes, in order. */
  inline: ImageInput[];
}

/**
 * `omit`: parameters the protocol carries in fields of its own (not in the text).
 * `inlineRoles`: the image roles sent as bytes rather than links.
 */
export function preparePrompt(
  input: SubmitInput,
  options: { inlineRoles?: readonly ReferenceRole[]; omit?: readonly (keyof PromptParams)[] } = {},
): PreparedPrompt {
  const inline: ImageInput[] = [];
  const imageUrls = [...input.imageUrls];
  const params: PromptParams = { ...input.params };
  for (const image of input.images) {
    if (options.inlineRoles?.includes(image.role)) {
      inline.push(image);
      continue;
    }
    // The job service refuses such a submission up front; this is the last line.
    if (!image.url) throw new UpstreamError('rejected', `This upstream needs a link to the ${image.role} image`);
    if (image.role === 'image') imageUrls.push(image.url);
    else if (image.role === 'style') params.sref = [...(params.sref ?? []), image.url];
    else params.oref = image.url;
  }
  for (const key of options.omit ?? []) delete params[key];
  const prompt = printPrompt({ text: input.text, imageUrls, params });
  // The last line: what goes out must read back as exactly what was checked (our own links
  // included): the same text, links and parameters, and no permutation braces.
  const reread = parsePrompt(prompt);
  const same =
    reread.text === input.text &&
    canonical(reread.imageUrls) === canonical(imageUrls) &&
    canonical(reread.params) === canonical(params);
  if (!same || PERMUTATION.test(prompt)) {
    throw new UpstreamError(
      'rejected',
      'The prompt could not be written for the upstream without changing its meaning',
    );
  }
  return { prompt, inline };
}

/** JSON with object keys in one order, to compare values built in different orders. */
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, item: unknown) =>
    item && typeof item === 'object' && !Array.isArray(item)
      ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => a.localeCompare(b)))
      : item,
  );

/** An image as a data URL, the way relays take base64Array entries. */
export async function dataUrl(image: ImageInput): Promise<string> {
  const { body, contentType } = await image.load();
  return `data:${contentType};base64,${body.toString('base64')}`;
}
