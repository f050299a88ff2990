import { z } from 'zod';
import { IdSchema, TimestampSchema } from './common.js';

export const TagSchema = z
  .object({ id: IdSchema, name: z.string(), color: z.string().describe('hex color code') })
  .meta({ id: 'Tag' });

export const StatusSchema = z
  .object({ id: IdSchema, name: z.string(), color: z.string().nullable(), createdAt: TimestampSchema })
  .meta({ id: 'Status' });

export const ColorSchema = z.object({ name: z.string(), hex: z.string() }).meta({ id: 'Color' });

const name = z.string().min(1).max(255);
const color = z.string().max(32).nullable().describe('a palette name (GET /colors) or a hex code such as #ef4444');

export const CreateLabelBody = z.object({ name, color: color.optional() });
export const UpdateLabelBody = z.object({ name: name.optional(), color: color.optional() });
