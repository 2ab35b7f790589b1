/**
 * The ledger's storage-agnostic core: RFC 6962 hashing, the Merkle tree over a
 * NodeStore, RFC 9162 proof verification, C2SP checkpoints and signed notes, and the
 * leaf reader (leaf.ts; event kinds are in events.ts).
 */
export { HASH_SIZE, emptyRoot, leafHash, nodeHash } from './hashing';
export { decodeBase64Strict, encodeBase64 } from './encoding';
export { LeafFormatError, readLeaf, type LeafFormat } from './leaf';
export {
  ConcurrentAppendError,
  MissingNodeError,
  nodeKeyString,
  nodesOfRun,
  type AppendRange,
  type NodeKey,
  type NodeRun,
  type NodeStore,
  type StoredNode,
} from './node-store';
export { nodesCompletedByAppend, type LevelRange } from './subtrees';
export { InMemoryNodeStore } from './memory-node-store';
export { MerkleTree, TreeRangeError } from './tree';
export { ProofError, rootFromInclusionProof, verifyConsistency, verifyInclusion, type ProofErrorCode } from './verify';
export {
  CheckpointError,
  formatCheckpoint,
  openCheckpoint,
  parseCheckpoint,
  signCheckpoint,
  type Checkpoint,
} from './checkpoint';
export {
  NoteError,
  generateNoteKey,
  hexKeyId,
  isValidKeyName,
  noteKeyId,
  openNote,
  parseSignerKey,
  parseVerifierKey,
  signNote,
  verifierKeyFromPublicKey,
  type NoteErrorCode,
  type NoteKeyPair,
  type NoteSignature,
  type NoteSigner,
  type NoteVerifier,
  type OpenedNote,
} from './note';
export { NEXT_KEY_EXTENSION, announcedKeys, nextKeyLine, openAnnouncement } from './key-rotation';
export {
  COSIGNATURE_V1_TYPE,
  CosignatureError,
  addSignatureLines,
  cosignatureKeyId,
  cosignaturesOnNote,
  cosignedMessage,
  cosignerVerifierKey,
  generateCosignerKey,
  parseCosignatureLine,
  parseCosignerSignerKey,
  parseCosignerVerifierKey,
  splitNote,
  verifyCosignature,
  type Cosignature,
  type CosignatureErrorCode,
  type CosignatureSigner,
  type CosignatureVerifier,
  type CosignerKeyPair,
} from './cosignature';
export { detectSplitView, type SplitViewEvidence } from './split-view';
