// The words of a prompt and of a search, the way SQLite's FTS5 sees them: split (both stores),
// then case- and accent-folded and bounded for a store that indexes prompts itself (PostgreSQL).

/** Most words a search uses; more would narrow little and each costs an index lookup. */
export const SEARCH_MAX_WORDS = 8;

/**
 * Longest word kept, in code points: 255 of them are at most 1020 bytes, under PostgreSQL's
 * 2047 bytes for a lexeme. A search (at most SEARCH_MAX_LENGTH, 200 characters) is shorter, so
 * a word cut here still starts with every search word its whole self started with.
 */
const MAX_WORD_LENGTH = 255;

/**
 * The words of a text: runs of letters, digits and their marks, split on what FTS5's tokenizer
 * separates words with (the SQLite store splits a search with it too). A run of marks alone is
 * no word.
 */
export const splitWords = (text: string): string[] =>
  text.split(/[^\p{L}\p{N}\p{M}]+/u).filter((word) => /[\p{L}\p{N}]/u.test(word));

/**
 * Lower case without the combining accents (U+0300 to U+036F), so that café, CAFÉ and a
 * decomposed cafe\u0301 are all `cafe`, as FTS5's `remove_diacritics 2` folds Latin letters.
 */
export const foldWord = (word: string): string =>
  [
    ...word
      .toLowerCase()
      .normalize('NFD')
      .replace(/[\u0300-\u036f]/gu, '')
      .normalize('NFC'),
  ]
    .slice(0, MAX_WORD_LENGTH)
    .join('');

/** Every distinct word of a prompt, folded: what its search index holds. */
export const promptWords = (prompt: string): string[] => [...new Set(splitWords(prompt).map(foldWord))];

export interface SearchWord {
  word: string;
  /** False for a one-letter word: it matches only as a whole word, not every word it begins. */
  prefix: boolean;
}

/**
 * A search's words, folded: the words of every text given, the first SEARCH_MAX_WORDS of them.
 * None at all (punctuation alone, or nothing) means no text filter.
 */
export const searchWords = (texts: readonly string[]): SearchWord[] =>
  texts
    .flatMap(splitWords)
    .slice(0, SEARCH_MAX_WORDS)
    .map(foldWord)
    .map((word) => ({ word, prefix: [...word].length > 1 }));
