/** Tables of list imports (migration 0005). */
export interface ImportChunksTable {
  job_id: string;
  seq: number;
  start_byte: number;
  data: Uint8Array;
}

export interface ListTables {
  import_chunks: ImportChunksTable;
}
