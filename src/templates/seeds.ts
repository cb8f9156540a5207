// The templates a group starts with: a labour contract, a purchase contract and a confidentiality
// agreement, each with example values (for a preview and for the tests). Each ends with a signature
// block whose keyword lines (甲方（盖章）：, 乙方（签字）：, 日期：) stand at the start of their own lines,
// where a seal is later placed by keyword search.
import type { TemplateSource, TemplateValues } from './template.types.js';

export interface SeedTemplate {
  /** Stable key, for seeding a group once and finding the seed again. */
  key: 'labour-contract' | 'purchase-contract' | 'nda';
  source: TemplateSource;
  /** Values that fill every variable, as a preview shows them. */
  example: TemplateValues;
}

const labourContract: SeedTemplate = {
  key: 'labour-contract',
  source: {
    title: '劳动合同',
    variables: [
      { name: 'employer', label: '甲方（用人单位）名称', type: 'text' },
      { name: 'employerAddress', label: '甲方住所', type: 'text' },
      { name: 'legalRepresentative', label: '甲方法定代表人', type: 'text' },
      { name: 'employee', label: '乙方（劳动者）姓名', type: 'text' },
      { name: 'idNumber', label: '乙方居民身份证号码', type: 'text' },
      { name: 'employeeAddress', label: '乙方住址', type: 'text', required: false },
      { name: 'position', label: '工作岗位', type: 'text' },
      { name: 'workplace', label: '工作地点', type: 'text' },
      { name: 'startDate', label: '合同起始日期', type: 'date' },
      { name: 'endDate', label: '合同终止日期', type: 'date' },
      { name: 'probationMonths', label: '试用期（月）', type: 'number' },
      { name: 'salary', label: '月工资（元）', type: 'amount' },
      { name: 'probationSalary', label: '试用期月工资（元）', type: 'amount' },
      { name: 'payDay', label: '每月发薪日', type: 'number' },
      { name: 'signDate', label: '签订日期', type: 'date', required: false },
    ],
    body: `# 劳动合同

甲方（用人单位）：{{employer}}
住所：{{employerAddress}}
法定代表人：{{legalRepresentative}}

乙方（劳动者）：{{employee}}
居民身份证号码：{{idNumber}}
住址：{{employeeAddress}}

根据《中华人民共和国劳动法》《中华人民共和国劳动合同法》及有关法律法规的规定，甲乙双方遵循合法、公平、平等自愿、协商一致、诚实信用的原则，订立本合同，共同遵守本合同所列条款。

## 第一条 合同期限
本合同为固定期限劳动合同，自{{startDate}}起至{{endDate}}止。其中试用期为{{probationMonths}}个月，自合同起始之日起计算。试用期包含在合同期限内。

## 第二条 工作内容和工作地点
乙方同意根据甲方工作需要，担任{{position}}岗位工作，工作地点为{{workplace}}。乙方应按照甲方依法制定的岗位职责和工作要求，按时、按质、按量完成工作任务。
甲方因生产经营需要调整乙方工作岗位或工作地点的，应与乙方协商一致，并以书面形式变更本合同。

## 第三条 工作时间和休息休假
甲方安排乙方执行标准工时制度，每日工作时间不超过八小时，每周工作时间不超过四十小时，每周至少休息一日。
甲方因生产经营需要安排乙方延长工作时间的，应与乙方协商，并依法安排补休或支付加班工资。乙方依法享有法定节假日、带薪年休假、婚假、产假等假期。

## 第四条 劳动报酬
乙方月工资为{{salary}}；试用期月工资为{{probationSalary}}，不低于本单位相同岗位最低档工资的百分之八十，并不低于甲方所在地的最低工资标准。
甲方于每月{{payDay}}日前以货币形式足额支付乙方上月工资，不得克扣或者无故拖欠。遇节假日或休息日的，应提前至最近的工作日支付。
甲方依法代扣代缴乙方应缴纳的个人所得税及社会保险费、住房公积金中个人应缴纳的部分。

## 第五条 社会保险和福利待遇
甲乙双方依法参加基本养老保险、基本医疗保险、失业保险、工伤保险和生育保险，并依法缴纳住房公积金。
乙方患病或非因工负伤的医疗期待遇、因工负伤或患职业病的待遇，按国家和地方有关规定执行。

## 第六条 劳动保护、劳动条件和职业危害防护
甲方应为乙方提供符合国家规定的劳动安全卫生条件和必要的劳动防护用品，对乙方进行安全生产教育和培训。
乙方应严格遵守安全操作规程。乙方对甲方管理人员违章指挥、强令冒险作业的，有权拒绝执行。

## 第七条 规章制度与保密
甲方依法制定的规章制度应向乙方公示，乙方应当遵守。
乙方应保守甲方的商业秘密和与知识产权相关的保密事项，双方另行签订保密协议的，从其约定。

## 第八条 合同的变更、解除和终止
经甲乙双方协商一致，可以变更本合同，变更应采用书面形式。
本合同的解除和终止，依照《中华人民共和国劳动合同法》的有关规定执行。甲方应在解除或者终止本合同时出具解除或者终止劳动合同的证明，并在十五日内为乙方办理档案和社会保险关系转移手续。

## 第九条 劳动争议处理
因履行本合同发生的劳动争议，双方可以协商解决；协商不成的，可以向甲方所在地劳动人事争议仲裁委员会申请仲裁；对仲裁裁决不服的，可以依法向人民法院提起诉讼。

## 第十条 其他
本合同未尽事宜，按国家和地方有关规定执行。
本合同一式两份，甲乙双方各执一份，具有同等法律效力，自双方签字或盖章之日起生效。

（以下无正文）

甲方（盖章）：{{employer}}
法定代表人或委托代理人（签字）：
日期：{{signDate}}

乙方（签字）：{{employee}}
日期：{{signDate}}
`,
  },
  example: {
    employer: '华夏贸易有限公司',
    employerAddress: '北京市朝阳区建国路88号',
    legalRepresentative: '李建国',
    employee: '张三丰',
    idNumber: '110101199003071234',
    employeeAddress: '北京市海淀区中关村大街27号',
    position: '销售经理',
    workplace: '北京市',
    startDate: '2026-01-01',
    endDate: '2028-12-31',
    probationMonths: 3,
    salary: '18000.00',
    probationSalary: '15000.00',
    payDay: 10,
    signDate: '2025-12-20',
  },
};

const purchaseContract: SeedTemplate = {
  key: 'purchase-contract',
  source: {
    title: '采购合同',
    variables: [
      { name: 'contractNo', label: '合同编号', type: 'text' },
      { name: 'buyer', label: '甲方（买方）名称', type: 'text' },
      { name: 'buyerAddress', label: '甲方地址', type: 'text' },
      { name: 'seller', label: '乙方（卖方）名称', type: 'text' },
      { name: 'sellerAddress', label: '乙方地址', type: 'text' },
      {
        name: 'goods',
        label: '货物清单',
        type: 'table',
        columns: [
          { name: 'name', label: '名称' },
          { name: 'spec', label: '规格' },
          { name: 'quantity', label: '数量', type: 'number' },
          { name: 'unitPrice', label: '单价（元）', type: 'amount' },
          { name: 'amount', label: '金额（元）', type: 'amount' },
        ],
      },
      { name: 'totalAmount', label: '合同总价', type: 'amount' },
      { name: 'deliveryDate', label: '交货日期', type: 'date' },
      { name: 'deliveryPlace', label: '交货地点', type: 'text' },
      { name: 'paymentTerms', label: '付款方式', type: 'text' },
      { name: 'warrantyMonths', label: '质量保证期（月）', type: 'number' },
      { name: 'signDate', label: '签订日期', type: 'date', required: false },
    ],
    body: `# 采购合同

合同编号：{{contractNo}}

甲方（买方）：{{buyer}}
地址：{{buyerAddress}}

乙方（卖方）：{{seller}}
地址：{{sellerAddress}}

根据《中华人民共和国民法典》及有关法律法规的规定，甲乙双方在平等、自愿、公平、诚实信用的基础上，就甲方向乙方采购下列货物事宜，经协商一致，订立本合同。

## 第一条 货物名称、规格、数量及价格
{{#table goods}}

## 第二条 合同价款
本合同总价为{{totalAmount}}。该价款已包含货物价款、包装费、运输费、装卸费、保险费及全部税费，乙方应向甲方开具合法有效的增值税专用发票。除本合同另有约定外，合同履行期间价款不作调整。

## 第三条 质量标准
乙方交付的货物应为全新、未使用过的合格产品，符合国家标准、行业标准及双方确认的技术要求，并随货提供产品合格证、说明书及装箱单。

## 第四条 交货
乙方应于{{deliveryDate}}前将货物运抵{{deliveryPlace}}，运输费用及货物交付前的风险由乙方承担。乙方应在发货前三日书面通知甲方发货时间、货物数量及承运信息。

## 第五条 验收
甲方应在货物到达后五个工作日内组织验收。货物的名称、规格、数量或质量不符合本合同约定的，甲方有权拒收，并书面通知乙方。乙方应在接到通知后七日内予以更换或补足，由此产生的费用由乙方承担。

## 第六条 付款方式
{{paymentTerms}}
乙方应在每次收款前向甲方开具等额的增值税专用发票，甲方收到合格发票后按约定付款。

## 第七条 质量保证
货物的质量保证期为{{warrantyMonths}}个月，自验收合格之日起计算。质量保证期内货物出现非因甲方使用不当造成的质量问题，乙方应在接到通知后四十八小时内响应，并免费维修或更换。

## 第八条 违约责任
乙方逾期交货的，每逾期一日，应按逾期交付货物价款的千分之五向甲方支付违约金；逾期超过三十日的，甲方有权解除本合同。
甲方无正当理由逾期付款的，每逾期一日，应按逾期付款金额的千分之五向乙方支付违约金。
乙方交付的货物不符合约定质量标准的，除更换或维修外，还应赔偿甲方因此遭受的损失。

## 第九条 不可抗力
因不可抗力不能履行本合同的，受影响一方应在不可抗力发生后十日内书面通知对方，并提供有关证明。根据不可抗力的影响，部分或者全部免除责任，但法律另有规定的除外。

## 第十条 争议解决
因本合同引起的或与本合同有关的争议，双方应友好协商解决；协商不成的，任何一方均可向甲方所在地有管辖权的人民法院提起诉讼。

## 第十一条 其他
本合同未尽事宜，双方可另行签订补充协议，补充协议与本合同具有同等法律效力。
本合同一式两份，甲乙双方各执一份，自双方盖章之日起生效。

（以下无正文）

甲方（盖章）：{{buyer}}
法定代表人或授权代表（签字）：
日期：{{signDate}}

乙方（盖章）：{{seller}}
法定代表人或授权代表（签字）：
日期：{{signDate}}
`,
  },
  example: {
    contractNo: 'HX-CG-2026-0017',
    buyer: '华夏贸易有限公司',
    buyerAddress: '北京市朝阳区建国路88号',
    seller: '江南精密仪器股份有限公司',
    sellerAddress: '江苏省苏州市工业园区星湖街328号',
    goods: [
      { name: '激光测距仪', spec: 'LD-500，测程0.05～500米', quantity: 20, unitPrice: '3200.00', amount: '64000.00' },
      { name: '数显卡尺', spec: '0～150毫米，分辨率0.01毫米', quantity: 100, unitPrice: '280.00', amount: '28000.00' },
      { name: '工业内窥镜', spec: 'EV-8，探头直径8毫米', quantity: 12, unitPrice: '3000.50', amount: '36006.00' },
    ],
    totalAmount: '128006.00',
    deliveryDate: '2026-03-15',
    deliveryPlace: '北京市朝阳区建国路88号华夏贸易有限公司仓库',
    paymentTerms:
      '合同签订后十个工作日内，甲方向乙方支付合同总价的百分之三十作为预付款；货物验收合格后三十日内，甲方支付合同总价的百分之六十；剩余百分之十作为质量保证金，在质量保证期届满且无质量争议后十个工作日内付清。',
    warrantyMonths: 24,
    signDate: '2026-02-01',
  },
};

const nda: SeedTemplate = {
  key: 'nda',
  source: {
    title: '保密协议',
    variables: [
      { name: 'discloser', label: '甲方（披露方）名称', type: 'text' },
      { name: 'discloserAddress', label: '甲方地址', type: 'text' },
      { name: 'recipient', label: '乙方（接收方）名称', type: 'text' },
      { name: 'recipientAddress', label: '乙方地址', type: 'text' },
      { name: 'purpose', label: '合作事项', type: 'text' },
      { name: 'effectiveDate', label: '生效日期', type: 'date' },
      { name: 'termYears', label: '保密期限（年）', type: 'number' },
      { name: 'penalty', label: '违约金', type: 'amount' },
      { name: 'signDate', label: '签订日期', type: 'date', required: false },
    ],
    body: `# 保密协议

甲方（披露方）：{{discloser}}
地址：{{discloserAddress}}

乙方（接收方）：{{recipient}}
地址：{{recipientAddress}}

鉴于甲乙双方拟就{{purpose}}进行合作，在此过程中甲方将向乙方披露其保密信息。为保护甲方的合法权益，双方根据《中华人民共和国民法典》《中华人民共和国反不正当竞争法》等法律法规，经协商一致，订立本协议。

## 第一条 保密信息
本协议所称保密信息，是指甲方以书面、口头、电子或其他任何形式向乙方披露的，不为公众所知悉、具有商业价值并经甲方采取保密措施的技术信息和经营信息，包括但不限于：
- 技术方案、设计图纸、源代码、工艺流程、配方、试验数据及研发资料；
- 客户名单、供应商信息、采购及销售价格、经营计划、财务数据；
- 甲方明示应予保密的其他信息，以及乙方从上述信息中分析、整理得出的资料。

## 第二条 除外情形
下列信息不属于保密信息：披露时已为公众所知悉的信息；非因乙方过错而为公众所知悉的信息；乙方在披露前已合法掌握并有书面记录证明的信息；乙方从有权披露的第三方合法取得的信息。

## 第三条 乙方的保密义务
乙方应对保密信息严格保密，仅为本协议所述合作目的使用保密信息，未经甲方事先书面同意，不得向任何第三方披露，不得复制、摘录或以任何方式使用于其他目的。
乙方仅可向因履行合作而确需知悉保密信息的员工或专业顾问披露，并应确保其承担不低于本协议约定的保密义务。

## 第四条 保密信息的返还与销毁
合作终止或甲方书面要求时，乙方应在十日内返还或销毁全部保密信息及其复制件，并向甲方出具书面确认。

## 第五条 保密期限
本协议自{{effectiveDate}}起生效。乙方的保密义务自本协议生效之日起持续{{termYears}}年；合作提前终止的，不影响本条约定的保密期限。

## 第六条 违约责任
乙方违反本协议约定的，应向甲方支付违约金{{penalty}}；违约金不足以弥补甲方损失的，乙方还应赔偿甲方的全部损失，包括甲方为维权支出的调查费、公证费和合理的律师费。

## 第七条 争议解决
因本协议引起的争议，双方应协商解决；协商不成的，任何一方均可向甲方所在地有管辖权的人民法院提起诉讼。

## 第八条 其他
本协议一式两份，甲乙双方各执一份，具有同等法律效力，自双方签字盖章之日起生效。

（以下无正文）

甲方（盖章）：{{discloser}}
法定代表人或授权代表（签字）：
日期：{{signDate}}

乙方（盖章）：{{recipient}}
法定代表人或授权代表（签字）：
日期：{{signDate}}
`,
  },
  example: {
    discloser: '华夏贸易有限公司',
    discloserAddress: '北京市朝阳区建国路88号',
    recipient: '远望信息技术有限公司',
    recipientAddress: '上海市浦东新区张江路1000号',
    purpose: '供应链管理系统的联合开发',
    effectiveDate: '2026-01-15',
    termYears: 3,
    penalty: '500000.00',
    signDate: '2026-01-15',
  },
};

/** The seed templates, in the order a new group's list shows them. */
export const seedTemplates: readonly SeedTemplate[] = [labourContract, purchaseContract, nda];
