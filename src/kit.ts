/**
 * The kit: what a spec written outside this repository imports, as `import { ... } from 'daxcheck'`
 * (package.json `exports`; bin/daxcheck.mjs and the parallel workers map the bare name to this
 * file at run time, src/kit-resolve.mjs, and `daxcheck new` writes a tsconfig.json whose `paths`
 * do the same for editors and tsc).
 *
 * A plain list of re-exports, grouped by the module they come from: the spec types, the shared
 * DAX machine (buildDaxSpec), XState's mutator, the shared properties, the layout constants and
 * the kernel-model helpers the repository's own spec folders import from models/. When those
 * modules change, change this list with them.
 */

// What a spec is (specs/common/spec.ts).
export type { AnySpec, BuiltSpec, CustomApp, DaxRunConfig, DurableSummary, Renderer, RunConfig, Spec, StepAction } from '../specs/common/spec.ts';

// The shared DAX machine, the application's program and the fault-cost measurement.
export { buildDaxSpec, type DaxMachineOptions } from '../specs/common/dax-machine.ts';
export { program, type AppName, type AppOptions, type FaultPath, type Ref, type Step } from '../specs/apps/pmem-log.ts';
export { FAULT_COST_N, faultCostConfigs } from '../specs/common/fault-cost.ts';

// The checker's side: properties, measures, the machine view properties read, byte contexts.
export type { Measure, Property } from '../checker/system.ts';
export type { MachineView } from '../checker/xstate/compile.ts';
export { mutator, type ByteContext } from '../checker/xstate/mutator.ts';

// Properties every DAX spec gets, and the pieces to write its own.
export {
  IDS,
  NAMES,
  afterCrash,
  beliefsSurvive,
  everyThreadFinishes,
  fsyncMakesStoresDurable,
  mappingsCoherent,
  noDeadlock,
  noStaleData,
  pointerPrecedesAllocation,
  recordSurvivesCrash,
  sharedProperties,
  type DaxProperty,
  type DaxView,
} from '../models/invariants.ts';

// The state's layout and its constants.
export {
  ADR,
  BLOCK_SIZE,
  DATA,
  EADR,
  EBADF,
  EINVAL,
  ENOMEM,
  ENOSPC,
  EOPNOTSUPP,
  EPERM,
  ERRNO_NAMES,
  EXTENT_NAMES,
  HDR,
  HOLE,
  Layout,
  OK,
  PLATFORMS,
  PTE_NAMES,
  PTE_NONE,
  PTE_RO,
  PTE_RW,
  PTR,
  SAW_DANGLING,
  SAW_NAMES,
  SAW_NOTHING,
  SAW_RECORD,
  SAW_TORN,
  SHARED,
  SIGBUS,
  STALE,
  UNWRITTEN,
  VIRTIO_PMEM,
  VIRTUAL_NVDIMM,
  VMA_NAMES,
  VMA_NONE,
  VMA_SHARED,
  VMA_SYNC,
  WRITTEN,
  ZERO,
  isWrittenKind,
  type DaxContext,
  type DurableBytes,
  type Features,
  type GhostBytes,
  type Platform,
  type VolatileBytes,
} from '../models/layout.ts';
export { appLayout, type AppLayout } from '../models/app-layout.ts';

// Kernel-model helpers the spec folders use.
export { cpuFlushPersists, durableWord, extentKind, fileSize, isDaxInode, isDurablyWritten, physOf, visibleWord } from '../models/fs.ts';
export { needsPfnMkwrite, needsWriteFault, pte, ptePhys, vma, type Zeroing } from '../models/faults.ts';
export type { At, DaxEvent } from '../models/implementations.ts';
export type { MmapFlags } from '../models/syscalls.ts';
export { PER_BLOCK, THIRD_PARTY_OPS, isMmapLockHeld, type ThirdPartyOp, type ThirdPartyPolicy } from '../models/third-party.ts';

// A proposal's own state, its pieces and their words (issue 10): declared fields and typed views,
// hooks into the shared model, actions that carry their trace text, specs made of replaceable
// building blocks, and the journal and file-system operations a proposal's own actions call.
export { fields, type FieldDecl, type FieldDecls, type FieldValue, type FieldView } from '../models/fields.ts';
export type { BlockView, CoreFields, Dimensions, KernelHooks, StateView } from '../models/layout.ts';
export { kernelAction, textOf, type ActionText, type SharedText, type TakenAction } from '../models/action.ts';
export { daxSpec, variant, type DaxDesign, type DaxSpec, type VariantParts } from '../specs/common/dax-spec.ts';
export { commitRunningTransaction, inodeItems, isInodeDirty, runningItems } from '../models/journal.ts';
export { allocatePhys, copyBlockDurably, setExtent, zeroPhysDurably } from '../models/fs.ts';
export { setPte, unmapMappingRange } from '../models/faults.ts';
export { errnoText, mmapAddress, wordName } from '../models/describe.ts';

// The registered specs, whose building blocks a variant starts from (`variant(mapSync, ...)`).
export { baseline } from '../specs/baseline/machine.ts';
export { mapSync } from '../specs/map-sync/machine.ts';
export { pmemImmutable } from '../specs/pmem-immutable/machine.ts';
export { mapDirect } from '../specs/map-direct/machine.ts';
export { prepareWrite } from '../specs/prepare-write/machine.ts';
export { deviceDax } from '../specs/device-dax/machine.ts';
export { nova } from '../specs/nova/machine.ts';
export { daxDetection } from '../specs/dax-detection/machine.ts';
