// Only the components the shell and the plugin panels use, so the bundle stays small.
import {
  create,
  NAlert,
  NButton,
  NCard,
  NConfigProvider,
  NDataTable,
  NDropdown,
  NEmpty,
  NForm,
  NFormItem,
  NInput,
  NInputNumber,
  NLayout,
  NLayoutContent,
  NLayoutSider,
  NMenu,
  NMessageProvider,
  NModal,
  NSelect,
  NSpace,
  NSpin,
  NSwitch,
  NTabPane,
  NTabs,
  NTag,
  NText,
} from 'naive-ui';

export default create({
  components: [NAlert, NButton, NCard, NConfigProvider, NDataTable, NDropdown, NEmpty, NForm, NFormItem, NInput, NInputNumber, NLayout, NLayoutContent, NLayoutSider, NMenu, NMessageProvider, NModal, NSelect, NSpace, NSpin, NSwitch, NTabPane, NTabs, NTag, NText],
});
