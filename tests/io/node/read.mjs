// Independent reader for skillrl's Parquet files (hyparquet + hyparquet-compressors,
// pinned in package.json). Prints one JSON line of metadata, then one JSON line per row.
// INT64 values come back as BigInt and are printed as exact JSON integers.
// usage: node read.mjs FILE.parquet
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet'
import { compressors } from 'hyparquet-compressors'

const file = await asyncBufferFromFile(process.argv[2])
const meta = await parquetMetadataAsync(file)
const big = (k, v) => (typeof v === 'bigint' ? `__BIGINT__${v}` : v)
const out = (o) => JSON.stringify(o, big).replace(/"__BIGINT__(-?\d+)"/g, '$1')
const codecs = new Set()
for (const rg of meta.row_groups) for (const c of rg.columns) codecs.add(c.meta_data.codec)
console.log(out({
  num_rows: meta.num_rows,
  row_groups: meta.row_groups.length,
  codecs: [...codecs],
  created_by: meta.created_by,
  schema: meta.schema.map((s) => ({
    name: s.name, type: s.type, repetition_type: s.repetition_type,
    converted_type: s.converted_type, logical_type: s.logical_type?.type, num_children: s.num_children,
  })),
}))
const rows = await parquetReadObjects({ file, compressors, metadata: meta })
for (const r of rows) console.log(out(r))
