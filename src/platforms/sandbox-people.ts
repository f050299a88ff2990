/**
 * The name and bio a sandbox user has when nobody gave it one: drawn from short lists by a hash of its id, so
 * the same id is the same person in every run and on every machine, and a personalised message reads as it
 * would on X. (A faker library was measured: 200 ms to import and 0.5 ms per seeded person, too slow for
 * campaigns of 100,000 default users; these lists are all we need.)
 */

const FIRST_NAMES = [
  'Ava', 'Ben', 'Chloé', 'Daniel', 'Elena', 'Farid', 'Grace', 'Hugo', 'Ines', 'Jonas', 'Kenji', 'Leila', 'Marco',
  'Nadia', 'Omar', 'Priya', 'Quentin', 'Rosa', 'Samuel', 'Tara', 'Umar', 'Vera', 'William', 'Ximena', 'Yusuf',
  'Zoe', 'Amara', 'Bruno', 'Camille', 'Diego', 'Emma', 'Felix', 'Hana', 'Isaac', 'Julia', 'Liam', 'Maya', 'Noah',
  'Olivia', 'Pablo', 'Sofia', 'Theo', 'Aisha', 'Lucas', 'Mei', 'Raj', 'Sara', 'Tomás', 'Yara', 'Elif',
];

const LAST_NAMES = [
  'Adams', 'Bauer', 'Chen', 'Dubois', 'Evans', 'Fischer', 'García', 'Haddad', 'Ibrahim', 'Jensen', 'Kowalski',
  'Lopez', 'Müller', 'Nakamura', 'Okafor', 'Patel', 'Quinn', 'Rossi', 'Santos', 'Tanaka', 'Ueda', 'Varga', 'Weber',
  'Xu', 'Yilmaz', 'Zimmermann', 'Andersson', 'Brown', 'Costa', 'Dias', 'Eriksen', 'Ferreira', 'Gupta', 'Hansen',
  'Ivanova', 'Kim', 'Larsen', 'Moreau', 'Nguyen', 'Novak', 'Oliveira', 'Park', 'Reyes', 'Schmidt', 'Silva',
  'Smith', 'Sato', 'Wright', 'Young', 'Khan',
];

const ROLES = [
  'Founder', 'Co-founder', 'Head of Growth', 'VP Sales', 'Product designer', 'Marketing lead', 'CTO', 'Engineer',
  'Partnerships', 'Community manager', 'Agency owner', 'Investor', 'Recruiter', 'Consultant', 'Operations lead',
];

const SUBJECTS = [
  'B2B SaaS', 'fintech', 'climate tech', 'e-commerce', 'developer tools', 'health tech', 'edtech', 'AI products',
  'creator economy', 'logistics', 'real estate', 'cybersecurity', 'martech', 'open source', 'travel',
];

const ASIDES = [
  'Coffee first.', 'DMs open.', 'Building in public.', 'Ex-consultant.', 'Runner on weekends.', 'Dog person.',
  'Writing about growth.', 'Always learning.', 'Hiring!', 'Opinions are my own.',
];

/** FNV-1a over the id's characters: cheap, stable, and spread enough to pick from short lists. */
export function hashOf(text: string, salt: number): number {
  let hash = 0x811c9dc5 ^ salt;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

const pick = <T>(list: readonly T[], id: string, salt: number): T => list[hashOf(id, salt) % list.length]!;

export interface SandboxPerson {
  displayName: string;
  bio: string;
}

/** The default person behind a sandbox id. */
export function sandboxPersonOf(platformId: string): SandboxPerson {
  const firstName = pick(FIRST_NAMES, platformId, 1);
  const lastName = pick(LAST_NAMES, platformId, 2);
  const bio = `${pick(ROLES, platformId, 3)} · ${pick(SUBJECTS, platformId, 4)}. ${pick(ASIDES, platformId, 5)}`;
  return { displayName: `${firstName} ${lastName}`, bio };
}
