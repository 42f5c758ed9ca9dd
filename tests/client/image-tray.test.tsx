import type { ImagineRequestInput } from '@shared/schemas/imagine';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { HttpResponse, http } from 'msw';
import { expect, test, vi } from 'vitest';
import { Gallery } from '@/features/jobs/components/gallery';
import { PromptForm } from '@/features/jobs/components/prompt-form';
import { API, errorAnswer, makeJob, makeUpload } from '../mocks/api';
import { renderWithClient } from './helpers';
import { server } from './setup';

const png = (name = 'cat.png') =>
  new File([new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10, 1, 2])], name, { type: 'image/png' });

/** The uploads as the server received them: their type and size, and the ids it gave. */
function recordUploads() {
  const received: { type: string | null; bytes: number; id: string }[] = [];
  server.use(
    http.post(`${API}/uploads`, async ({ request }) => {
      const upload = makeUpload();
      received.push({
        type: request.headers.get('content-type'),
        bytes: (await request.arrayBuffer()).byteLength,
        id: upload.upload_id,
      });
      return HttpResponse.json(upload, { status: 201 });
    }),
  );
  return received;
}

function recordSubmissions() {
  const sent: ImagineRequestInput[] = [];
  server.use(
    http.post(`${API}/imagine`, async ({ request }) => {
      sent.push((await request.json()) as ImagineRequestInput);
      return HttpResponse.json(makeJob(`s_${sent.length}`), { status: 202 });
    }),
  );
  return sent;
}

async function renderBox() {
  renderWithClient(
    <>
      <PromptForm />
      <Gallery onUseAgain={vi.fn()} />
    </>,
  );
  await screen.findByText(/Your images will appear here/);
  return userEvent.setup();
}

test('a picked file is uploaded as its own bytes, shown with its role, and sent as an image prompt', async () => {
  const received = recordUploads();
  const sent = recordSubmissions();
  const user = await renderBox();

  await user.upload(screen.getByLabelText('Add images'), png());
  const thumbnail = await screen.findByRole('img', { name: 'Image prompt 1: cat.png' });
  await user.type(screen.getByLabelText('Prompt'), 'a cat astronaut');
  await user.click(screen.getByRole('button', { name: 'Generate' }));
  await waitFor(() => expect(sent).toHaveLength(1));

  const id = received[0]?.id;
  expect(received).toEqual([{ type: 'image/png', bytes: 10, id }]);
  expect(thumbnail).toHaveAttribute('src', `/api/uploads/${id}/image`);
  expect(screen.getByLabelText('Role of image 1')).toHaveValue('image');
  expect(screen.getByLabelText(/^Image weight/)).toHaveValue(1);
  expect(sent).toEqual([{ prompt: 'a cat astronaut', image_prompts: [{ upload_id: id }] }]);
});

test('an image made a style reference is sent as style_refs, and its weight is --sw in the text', async () => {
  const received = recordUploads();
  const sent = recordSubmissions();
  const user = await renderBox();

  await user.type(screen.getByLabelText('Prompt'), 'a harbour');
  await user.upload(screen.getByLabelText('Add images'), png('style.png'));
  await user.selectOptions(await screen.findByLabelText('Role of image 1'), 'style');
  const weight = screen.getByLabelText(/^Style weight/);
  await user.clear(weight);
  await user.type(weight, '400');
  await user.click(screen.getByRole('button', { name: 'Generate' }));
  await waitFor(() => expect(sent).toHaveLength(1));

  expect(screen.getByRole('img', { name: 'Style reference 1: style.png' })).toBeInTheDocument();
  expect(sent).toEqual([{ prompt: 'a harbour --sw 400', style_refs: [{ upload_id: received[0]?.id }] }]);
});

test('removing the last image of a role takes the image and its weight away', async () => {
  recordUploads();
  const user = await renderBox();
  await user.type(screen.getByLabelText('Prompt'), 'a harbour');
  await user.upload(screen.getByLabelText('Add images'), png());
  const weight = await screen.findByLabelText(/^Image weight/);
  await user.clear(weight);
  await user.type(weight, '2');
  const withWeight = (screen.getByLabelText('Prompt') as HTMLTextAreaElement).value;

  await user.click(screen.getByRole('button', { name: 'Remove image 1' }));

  expect(withWeight).toBe('a harbour --iw 2');
  expect(screen.getByLabelText('Prompt')).toHaveValue('a harbour');
  expect(screen.queryByRole('img', { name: /Image prompt/ })).not.toBeInTheDocument();
});

test('a dropped file the server refuses (415) is named with the server’s reason beside the tray', async () => {
  server.use(
    http.post(`${API}/uploads`, () =>
      errorAnswer(415, {
        code: 'unsupported_media_type',
        message:
          'Send the image itself as the body, with Content-Type image/png, image/jpeg or image/webp (not a form)',
      }),
    ),
  );
  await renderBox();
  const gif = new File(['GIF89a'], 'anim.gif', { type: 'image/gif' });
  const form = screen.getByLabelText('Prompt').closest('form') as HTMLFormElement;

  fireEvent.dragOver(form, { dataTransfer: { types: ['Files'], files: [gif] } });
  const highlighted = form.classList.contains('dropping');
  fireEvent.drop(form, { dataTransfer: { types: ['Files'], files: [gif] } });

  const tray = await screen.findByRole('region', { name: 'Images for this prompt' });
  expect(highlighted).toBe(true);
  expect(await within(tray).findByRole('alert')).toHaveTextContent(
    'anim.gif: Send the image itself as the body, with Content-Type image/png, image/jpeg or image/webp (not a form)',
  );
  expect(within(tray).queryByRole('img')).not.toBeInTheDocument();
});

test('a pasted image is uploaded; a 413 refusal of the next is shown and the first image stays', async () => {
  server.use(
    http.post(`${API}/uploads`, () => HttpResponse.json(makeUpload(), { status: 201 }), { once: true }),
    http.post(`${API}/uploads`, () =>
      errorAnswer(413, { code: 'payload_too_large', message: 'The image is over 10 MB: send a smaller one' }),
    ),
  );
  const user = await renderBox();

  fireEvent.paste(screen.getByLabelText('Prompt'), { clipboardData: { files: [png('pasted.png')], types: ['Files'] } });
  await screen.findByRole('img', { name: 'Image prompt 1: pasted.png' });
  await user.upload(screen.getByLabelText('Add images'), png('huge.png'));

  expect(await screen.findByText('huge.png: The image is over 10 MB: send a smaller one')).toBeInTheDocument();
  expect(screen.getAllByRole('img', { name: /^Image prompt/ })).toHaveLength(1);
  expect(screen.getByLabelText('Prompt')).toHaveValue('');
});

test('the tray takes 5 image prompts, then style references; more is refused with the limits', async () => {
  recordUploads();
  const user = await renderBox();

  await user.upload(
    screen.getByLabelText('Add images'),
    Array.from({ length: 11 }, (_, index) => png(`p${index + 1}.png`)),
  );
  await waitFor(() => expect(screen.getAllByRole('img')).toHaveLength(10));

  expect(screen.getAllByRole('img', { name: /^Image prompt/ })).toHaveLength(5);
  expect(screen.getAllByRole('img', { name: /^Style reference/ })).toHaveLength(5);
  expect(within(screen.getByRole('region', { name: 'Images for this prompt' })).getByRole('alert')).toHaveTextContent(
    'The tray is full: up to 5 image prompts and 5 style references',
  );
  // The one omni place is still free; the image prompts' are not.
  const role = screen.getByLabelText('Role of image 6');
  expect(within(role).getByRole('option', { name: 'Omni reference' })).toBeEnabled();
  expect(within(role).getByRole('option', { name: 'Image prompt' })).toBeDisabled();
});

test('Describe asks for four prompts for an image; its job appears at the top of the history', async () => {
  const received = recordUploads();
  let asked: unknown;
  server.use(
    http.post(`${API}/describe`, async ({ request }) => {
      asked = await request.json();
      return HttpResponse.json(
        makeJob('desc1', { kind: 'describe', prompt: 'Describe this image', aspect_ratio: '1:1', status: 'pending' }),
        { status: 202 },
      );
    }),
  );
  const user = await renderBox();

  await user.upload(screen.getByLabelText('Add images'), png());
  await user.click(await screen.findByRole('button', { name: 'Describe image 1' }));

  expect(await screen.findByRole('article', { name: 'Describe this image' })).toBeInTheDocument();
  expect(asked).toEqual({ image: { upload_id: received[0]?.id } });
});

test('a server without describe says why, beside the tray', async () => {
  recordUploads();
  server.use(
    http.post(`${API}/describe`, () =>
      errorAnswer(409, { code: 'conflict', message: 'The upstream in use (v7) cannot describe images' }),
    ),
  );
  const user = await renderBox();

  await user.upload(screen.getByLabelText('Add images'), png());
  await user.click(await screen.findByRole('button', { name: 'Describe image 1' }));

  const tray = screen.getByRole('region', { name: 'Images for this prompt' });
  expect(await within(tray).findByRole('alert')).toHaveTextContent('The upstream in use (v7) cannot describe images');
  expect(screen.queryByRole('article')).not.toBeInTheDocument();
});

test('Blend appears with two images and sends them with the shape chosen', async () => {
  const received = recordUploads();
  let asked: unknown;
  server.use(
    http.post(`${API}/blend`, async ({ request }) => {
      asked = await request.json();
      return HttpResponse.json(makeJob('bl1', { kind: 'blend', prompt: 'Blend of 2 images', aspect_ratio: '3:2' }), {
        status: 202,
      });
    }),
  );
  const user = await renderBox();

  await user.upload(screen.getByLabelText('Add images'), png('a.png'));
  await screen.findByRole('img', { name: 'Image prompt 1: a.png' });
  const withOne = screen.queryByRole('button', { name: /^Blend/ });
  await user.upload(screen.getByLabelText('Add images'), png('b.png'));
  await user.selectOptions(await screen.findByLabelText('Blend shape'), 'landscape');
  await user.click(screen.getByRole('button', { name: 'Blend 2 images' }));

  expect(await screen.findByRole('article', { name: 'Blend of 2 images' })).toBeInTheDocument();
  expect(withOne).not.toBeInTheDocument();
  expect(asked).toEqual({
    images: [{ upload_id: received[0]?.id }, { upload_id: received[1]?.id }],
    shape: 'landscape',
  });
});

test('an omni reference needs model 7: the browser says so before sending', async () => {
  recordUploads();
  const sent = recordSubmissions();
  const user = await renderBox();

  await user.upload(screen.getByLabelText('Add images'), png('me.png'));
  await user.selectOptions(await screen.findByLabelText('Role of image 1'), 'omni');
  await user.type(screen.getByLabelText('Prompt'), 'me on the moon --v 6.1');
  await user.click(screen.getByRole('button', { name: 'Generate' }));

  expect(await screen.findByText('The omni reference is for model 7 only')).toHaveRole('alert');
  expect(screen.getByText('2× cost')).toBeInTheDocument();
  expect(sent).toEqual([]);
});
