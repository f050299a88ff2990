import { describePlatform } from '../../../core/platform-capabilities.js';
import type { Platform } from '../../../store/schema.js';
import { platformNotAvailable } from '../errors.js';

/** A platform filter names only platforms the team can use (403 platformNotAvailable otherwise). */
export function assertPlatformsAvailable(platforms: readonly string[] | undefined): asserts platforms is Platform[] | undefined {
  const unknown = platforms?.find((p) => !describePlatform(p));
  if (unknown !== undefined) throw platformNotAvailable(unknown);
}
